// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/**
 * @title IWorkRoots
 * @notice What governance needs from the reward distributor: the per-epoch Merkle roots over
 * cumulative leaves `(account, cumulativeWork, cumulativeReward)`, and each epoch's total work.
 */
interface IWorkRoots {
    /// @notice True when `epoch` has a root and the leaf with `proof` is in it.
    function verifyLeaf(
        uint64 epoch,
        address account,
        uint256 cumulativeWork,
        uint256 cumulativeReward,
        bytes32[] calldata proof
    ) external view returns (bool);

    /// @notice The sum of `cumulativeWork` over every leaf of `epoch`'s root; 0 for an unpublished epoch.
    function totalWorkOf(uint64 epoch) external view returns (uint256);
}
