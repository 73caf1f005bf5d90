// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/**
 * @title IWorkRoots
 * @notice What governance needs from the reward distributor: the per-epoch Merkle roots over
 * cumulative leaves `(account, cumulativeWork, cumulativeReward)`, and each epoch's total work.
 */
interface IWorkRoots {
    /// @notice True when `epoch` has a root and the leaf with `proof` is in it.
    /// @dev Leaves are hashed as OpenZeppelin's StandardMerkleTree does (double keccak256).
    /// @param epoch The epoch whose root is checked.
    /// @param account The leaf's account.
    /// @param cumulativeWork The leaf's work since the DAO began.
    /// @param cumulativeReward The leaf's reward since the DAO began.
    /// @param proof The Merkle proof of the leaf.
    /// @return True when the leaf is in the epoch's root; false for an unpublished epoch.
    function verifyLeaf(
        uint64 epoch,
        address account,
        uint256 cumulativeWork,
        uint256 cumulativeReward,
        bytes32[] calldata proof
    ) external view returns (bool);

    /// @notice The highest epoch published so far (0 before the first), final or not.
    /// @return The epoch number.
    function latestEpoch() external view returns (uint64);

    /// @notice True when `epoch`'s root is past its challenge period and was not vetoed: only such
    /// a root is claimed against or weighs votes.
    /// @param epoch The epoch to check.
    /// @return False for an unpublished, vetoed or still challengeable epoch.
    function isFinal(uint64 epoch) external view returns (bool);

    /// @notice The highest final epoch (0 when none is): the only epoch a new proposal may be pinned to.
    /// @return The epoch number.
    function latestFinalEpoch() external view returns (uint64);

    /// @notice The challenge period of roots published from now on, in seconds.
    /// @return The period.
    function challengePeriod() external view returns (uint256);

    /// @notice Sets the challenge period of roots published from now on (the governor only).
    /// @param periodSeconds The new period in seconds.
    function setChallengePeriod(uint256 periodSeconds) external;

    /// @notice The sum of `cumulativeWork` over every leaf of `epoch`'s root; 0 for an unpublished epoch.
    /// @param epoch The epoch to read.
    /// @return The epoch's total work, as its publisher posted it.
    function totalWorkOf(uint64 epoch) external view returns (uint256);
}
