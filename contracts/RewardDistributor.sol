// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Checkpoints} from "@openzeppelin/contracts/utils/structs/Checkpoints.sol";
import {IWorkRoots} from "./IWorkRoots.sol";

/**
 * @title RewardDistributor
 * @notice Cumulative Merkle reward distribution. Each epoch the publisher posts one immutable root
 * over leaves `(account, cumulativeWork, cumulativeReward)`: totals since the DAO began, not the
 * epoch's increment. A claim pays `cumulativeReward - claimed[account]`, so a member who skips
 * epochs loses nothing and any newer root settles everything owed so far.
 *
 * Leaves are hashed as OpenZeppelin's StandardMerkleTree does
 * (`keccak256(bytes.concat(keccak256(abi.encode(account, cumulativeWork, cumulativeReward))))`),
 * so the off-chain tree is built with OpenZeppelin's merkle-tree package and the double hash keeps a leaf
 * from ever being read as an inner node.
 *
 * Anyone may submit a claim for any account (a relayer pays the gas); the tokens always go to the
 * account in the leaf.
 *
 * A root is final only after its challenge period (the period in force when it was published,
 * governed by WorkGovernor through GOVERNOR_ROLE): until then a guardian may veto it, and nothing
 * may be claimed against it. A vetoed root is never final; the next published root supersedes it,
 * since every root settles everything owed so far.
 */
contract RewardDistributor is AccessControl, IWorkRoots {
    using SafeERC20 for IERC20;
    using Checkpoints for Checkpoints.Trace208;

    /// @notice May publish epoch roots. A multisig in production; the gateway's key locally.
    /// @return The role id, keccak256("PUBLISHER_ROLE").
    bytes32 public constant PUBLISHER_ROLE = keccak256("PUBLISHER_ROLE");
    /// @notice May veto a root during its challenge period. Someone other than the publisher: a
    /// multisig of members or an auditor who rebuilds each root from the published data.
    /// @return The role id, keccak256("GUARDIAN_ROLE").
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    /// @notice May set the challenge period: the WorkGovernor, when a ParameterChange passes.
    /// @return The role id, keccak256("GOVERNOR_ROLE").
    bytes32 public constant GOVERNOR_ROLE = keccak256("GOVERNOR_ROLE");
    /// @notice The longest challenge period allowed, in seconds (bounds how long claims can be held up).
    /// @return 30 days in seconds.
    uint256 public constant MAX_CHALLENGE_PERIOD = 30 days;

    /// @notice What was posted for one epoch; immutable once published.
    struct Epoch {
        /// Root of the tree over cumulative leaves `(account, cumulativeWork, cumulativeReward)`.
        bytes32 root;
        /// Sum of cumulativeWork over all leaves: the most weight a vote pinned to this epoch can carry.
        uint256 totalWork;
        /// Reward for members added by this epoch (funded by the publisher when the root is posted).
        uint256 reward;
        /// The DAO's reinvested share of this epoch's reward, paid to the treasury.
        uint256 reinvested;
        /// Block timestamp of the publishRoot transaction, in seconds.
        uint64 publishedAt;
        /// sha256 of the epoch's audit bundle (every share behind the root, README "Audit bundles"):
        /// anyone can download the bundle, check it against this hash and recompute the root.
        bytes32 bundleHash;
    }

    /// @notice A claim as submitted in a batch.
    struct Claim {
        address account;
        uint64 epoch;
        uint256 cumulativeWork;
        uint256 cumulativeReward;
        bytes32[] proof;
    }

    /// @notice The ERC-20 paid out by claims and pulled from the publisher by publishRoot.
    /// @return The token's address.
    IERC20 public immutable rewardToken;
    /// @notice Receives the reinvested share of every epoch's reward (hardware, operations).
    /// @return The treasury's address.
    address public immutable treasury;

    /// @notice The highest epoch published so far (0 before the first).
    /// @return The epoch number.
    uint64 public latestEpoch;
    mapping(uint64 epoch => Epoch) private _epochs;
    /// @notice Cumulative reward already paid to each account.
    /// @dev Equals the cumulativeReward of the leaf the account last claimed with, so it only grows.
    /// @return The total paid to the account, in the token's smallest unit.
    mapping(address account => uint256) public claimed;
    /// @notice Block timestamp at which each epoch's root was vetoed, in seconds (0: not vetoed).
    /// @return The veto time.
    mapping(uint64 epoch => uint64) public vetoedAt;
    /// @dev The challenge period by the block timestamp it took effect at, so each root keeps the
    /// period in force when it was published: a later change never reopens (or cuts short) the
    /// window of a root already posted.
    Checkpoints.Trace208 private _challengePeriods;

    /// @notice The root of `epoch` was posted and its funding pulled from the publisher.
    /// @param epoch The epoch the root belongs to.
    /// @param root The Merkle root over the epoch's cumulative leaves.
    /// @param totalWork The sum of cumulativeWork over every leaf.
    /// @param reward The amount pulled into this contract for claims.
    /// @param reinvested The amount pulled to the treasury.
    /// @param bundleHash sha256 of the epoch's audit bundle.
    event RootPublished(
        uint64 indexed epoch,
        bytes32 root,
        uint256 totalWork,
        uint256 reward,
        uint256 reinvested,
        bytes32 bundleHash
    );
    /// @notice `account` was paid `amount`, bringing its claimed total to `cumulativeReward`.
    /// @param account The member paid (the account in the leaf).
    /// @param epoch The epoch whose root proved the leaf.
    /// @param amount What this claim paid: the leaf's cumulativeReward minus what was claimed before.
    /// @param cumulativeReward The leaf's cumulativeReward, now the account's claimed total.
    /// @param submitter Who sent the transaction (the account itself or a relayer).
    event Claimed(
        address indexed account,
        uint64 indexed epoch,
        uint256 amount,
        uint256 cumulativeReward,
        address indexed submitter
    );

    /// @notice A claim in a claimMany batch was skipped because it was already done: the account
    /// has claimed up to this leaf's cumulativeReward (or beyond), e.g. through a claim() that was
    /// mined before the batch. Nothing is paid and nothing changes.
    /// @param account The account the claim was for.
    /// @param epoch The epoch the claim named.
    /// @param reason The selector of the error claim() would revert with (NothingToClaim).
    /// @param cumulativeReward The leaf's cumulativeReward.
    /// @param alreadyClaimed What the account had claimed when the batch reached it.
    event ClaimSkipped(
        address indexed account,
        uint64 indexed epoch,
        bytes4 reason,
        uint256 cumulativeReward,
        uint256 alreadyClaimed
    );

    /// @notice A guardian vetoed the root of `epoch` during its challenge period; it will never be
    /// final. The next published root supersedes it.
    /// @param epoch The vetoed epoch.
    /// @param reason Why, for members and the publisher's operator.
    /// @param guardian Who vetoed.
    event RootVetoed(uint64 indexed epoch, string reason, address indexed guardian);
    /// @notice The challenge period of roots published from now on changed.
    /// @param oldSeconds The period before.
    /// @param newSeconds The period now.
    event ChallengePeriodChanged(uint256 oldSeconds, uint256 newSeconds);

    /// @notice A constructor argument was the zero address.
    error ZeroAddress();
    /// @notice publishRoot was given a zero root, which would read as "not published".
    error EmptyRoot();
    /// @notice `epoch` already has a root; roots are never replaced.
    /// @param epoch The epoch that was published before.
    error EpochAlreadyPublished(uint64 epoch);
    /// @notice `epoch` is not after the latest published epoch.
    /// @param epoch The epoch asked for.
    /// @param latestEpoch The highest epoch published so far.
    error EpochOutOfOrder(uint64 epoch, uint64 latestEpoch);
    /// @notice A claim named an epoch that has no root.
    /// @param epoch The unpublished epoch.
    error UnknownEpoch(uint64 epoch);
    /// @notice The leaf with its proof is not in the epoch's root.
    /// @param account The account the claim was for.
    /// @param epoch The epoch the claim named.
    error InvalidProof(address account, uint64 epoch);
    /// @notice The leaf owes nothing beyond what the account has already claimed.
    /// @param account The account the claim was for.
    /// @param cumulativeReward The leaf's cumulativeReward.
    /// @param alreadyClaimed What the account has claimed so far.
    error NothingToClaim(address account, uint256 cumulativeReward, uint256 alreadyClaimed);
    /// @notice The epoch's root is still in its challenge period: not claimable (nor vetoable after it).
    /// @param epoch The epoch.
    /// @param challengeEndsAt The second from which it is final (publishedAt + its challenge period).
    error RootInChallenge(uint64 epoch, uint64 challengeEndsAt);
    /// @notice The epoch's root was vetoed; claim against a later root instead.
    /// @param epoch The epoch.
    error RootWasVetoed(uint64 epoch);
    /// @notice A veto came after the root's challenge period: the root is final.
    /// @param epoch The epoch.
    /// @param challengeEndsAt The second from which the root is final; vetoes came before it.
    error ChallengePeriodOver(uint64 epoch, uint64 challengeEndsAt);
    /// @notice A veto gave no reason.
    error EmptyReason();
    /// @notice A challenge period above MAX_CHALLENGE_PERIOD.
    /// @param period The period asked for, in seconds.
    error ChallengePeriodTooLong(uint256 period);

    /// @param token The reward token.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE (grants and revokes the publisher).
    /// @param publisher Holder of PUBLISHER_ROLE.
    /// @param treasury_ Receiver of each epoch's reinvested share.
    /// @param governor Holder of GOVERNOR_ROLE (the WorkGovernor; its address is known before it
    /// is deployed, so the roles need no second transaction by the admin).
    /// @param guardian Holder of GUARDIAN_ROLE.
    /// @param challengePeriodSeconds The initial challenge period; 0 makes roots final at once.
    constructor(
        IERC20 token,
        address admin,
        address publisher,
        address treasury_,
        address governor,
        address guardian,
        uint256 challengePeriodSeconds
    ) {
        if (
            address(token) == address(0) || admin == address(0) || publisher == address(0) || treasury_ == address(0)
                || governor == address(0) || guardian == address(0)
        ) {
            revert ZeroAddress();
        }
        if (challengePeriodSeconds > MAX_CHALLENGE_PERIOD) revert ChallengePeriodTooLong(challengePeriodSeconds);
        rewardToken = token;
        treasury = treasury_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PUBLISHER_ROLE, publisher);
        _grantRole(GOVERNOR_ROLE, governor);
        _grantRole(GUARDIAN_ROLE, guardian);
        _challengePeriods.push(uint48(block.timestamp), uint208(challengePeriodSeconds));
    }

    /**
     * @notice Posts the root of `epoch` and pulls its funding from the publisher: `reward` stays
     * here for claims, `reinvested` goes to the treasury. Epochs only move forward (gaps allowed,
     * for epochs without new work) and a root is never replaced, so a publisher that retries after
     * a crash cannot create a second root for an epoch.
     * @dev Checks, then effects, then the token transfers last, so a token calling back sees the
     * epoch already recorded. The publisher must have approved `reward + reinvested`.
     * @param epoch The epoch to publish; must be above latestEpoch.
     * @param root The Merkle root over the epoch's cumulative leaves; must not be zero.
     * @param totalWork The sum of cumulativeWork over every leaf (the quorum base of governance).
     * @param reward Tokens pulled from the publisher into this contract for the new claims.
     * @param reinvested Tokens pulled from the publisher to the treasury.
     * @param bundleHash sha256 of the epoch's audit bundle, the data the root was computed from.
     */
    function publishRoot(uint64 epoch, bytes32 root, uint256 totalWork, uint256 reward, uint256 reinvested, bytes32 bundleHash)
        external
        onlyRole(PUBLISHER_ROLE)
    {
        if (root == bytes32(0)) revert EmptyRoot();
        if (_epochs[epoch].root != bytes32(0)) revert EpochAlreadyPublished(epoch);
        if (epoch <= latestEpoch) revert EpochOutOfOrder(epoch, latestEpoch);

        _epochs[epoch] = Epoch(root, totalWork, reward, reinvested, uint64(block.timestamp), bundleHash);
        latestEpoch = epoch;
        emit RootPublished(epoch, root, totalWork, reward, reinvested, bundleHash);

        if (reward != 0) rewardToken.safeTransferFrom(msg.sender, address(this), reward);
        if (reinvested != 0) rewardToken.safeTransferFrom(msg.sender, treasury, reinvested);
    }

    /// @notice Pays `account` what its leaf in `epoch` owes beyond what it has already claimed.
    /// @dev Leaves are cumulative, so replaying a leaf (or an older one) pays nothing: `claimed` is
    /// set to the leaf's cumulativeReward before the transfer (checks-effects-interactions), and a
    /// leaf not above it reverts with NothingToClaim. Anyone may submit; the tokens go to `account`.
    /// @param account The account in the leaf, which receives the tokens.
    /// @param epoch A published epoch whose root holds the leaf (usually the latest).
    /// @param cumulativeWork The leaf's work since the DAO began.
    /// @param cumulativeReward The leaf's reward since the DAO began.
    /// @param proof The Merkle proof of the leaf in the epoch's root.
    function claim(
        address account,
        uint64 epoch,
        uint256 cumulativeWork,
        uint256 cumulativeReward,
        bytes32[] calldata proof
    ) external {
        _claim(account, epoch, cumulativeWork, cumulativeReward, proof);
    }

    /// @notice Several claims in one transaction (a relayer's batch). A claim already done (the
    /// account has claimed up to its leaf) is skipped with ClaimSkipped instead of reverting, so
    /// anyone who front-runs the batch with claim() for one member cannot drop the others'.
    /// @dev Invalid input still reverts the whole batch (UnknownEpoch, InvalidProof): the relayer
    /// checks each claim before batching, so such an entry is its own fault, which it isolates by
    /// checking each entry again. Each leaf is proven before it is judged done, so a ClaimSkipped
    /// always names a real leaf.
    /// @param claims The claims, each checked and paid as by claim.
    function claimMany(Claim[] calldata claims) external {
        for (uint256 i = 0; i < claims.length; ++i) {
            Claim calldata c = claims[i];
            _requireLeaf(c.account, c.epoch, c.cumulativeWork, c.cumulativeReward, c.proof);
            uint256 already = claimed[c.account];
            if (c.cumulativeReward <= already) {
                emit ClaimSkipped(c.account, c.epoch, NothingToClaim.selector, c.cumulativeReward, already);
                continue;
            }
            _pay(c.account, c.epoch, c.cumulativeReward, already);
        }
    }

    /// @notice Vetoes the root of `epoch` during its challenge period: it can never be claimed
    /// against or pinned by a proposal. The publisher goes on with the next epoch, whose root
    /// (cumulative) settles everything.
    /// @param epoch A published epoch whose challenge period is not over.
    /// @param reason Why (not empty): what the guardian found wrong.
    function vetoRoot(uint64 epoch, string calldata reason) external onlyRole(GUARDIAN_ROLE) {
        uint64 publishedAt = _epochs[epoch].publishedAt;
        if (publishedAt == 0) revert UnknownEpoch(epoch);
        if (vetoedAt[epoch] != 0) revert RootWasVetoed(epoch);
        uint64 endsAt = _challengeEndsAt(publishedAt);
        if (block.timestamp >= endsAt) revert ChallengePeriodOver(epoch, endsAt);
        if (bytes(reason).length == 0) revert EmptyReason();
        vetoedAt[epoch] = uint64(block.timestamp);
        emit RootVetoed(epoch, reason, msg.sender);
    }

    /// @notice Sets the challenge period of roots published from now on (those already published
    /// keep theirs). Called by the WorkGovernor when a ParameterChange passes.
    /// @param periodSeconds The new period; 0 to MAX_CHALLENGE_PERIOD.
    function setChallengePeriod(uint256 periodSeconds) external onlyRole(GOVERNOR_ROLE) {
        if (periodSeconds > MAX_CHALLENGE_PERIOD) revert ChallengePeriodTooLong(periodSeconds);
        uint256 old = _challengePeriods.latest();
        _challengePeriods.push(uint48(block.timestamp), uint208(periodSeconds));
        emit ChallengePeriodChanged(old, periodSeconds);
    }

    /// @notice The challenge period of roots published from now on, in seconds.
    /// @return The period.
    function challengePeriod() external view returns (uint256) {
        return _challengePeriods.latest();
    }

    /// @notice The second from which `epoch`'s root is final unless vetoed before (0 when it was
    /// never published). With a period of 0 that is its publication: no veto is possible.
    /// @param epoch The epoch.
    /// @return publishedAt plus the period in force when it was published, in Unix seconds.
    function challengeEndsAt(uint64 epoch) external view returns (uint64) {
        uint64 publishedAt = _epochs[epoch].publishedAt;
        return publishedAt == 0 ? 0 : _challengeEndsAt(publishedAt);
    }

    /// @inheritdoc IWorkRoots
    function isFinal(uint64 epoch) public view returns (bool) {
        uint64 publishedAt = _epochs[epoch].publishedAt;
        return publishedAt != 0 && vetoedAt[epoch] == 0 && block.timestamp >= _challengeEndsAt(publishedAt);
    }

    /// @inheritdoc IWorkRoots
    /// @dev Walks down from latestEpoch over the epoch numbers (the gateway numbers them without
    /// gaps), so it costs one look per root still in its window or vetoed.
    function latestFinalEpoch() external view returns (uint64) {
        for (uint64 epoch = latestEpoch; epoch != 0; --epoch) {
            if (isFinal(epoch)) return epoch;
        }
        return 0;
    }

    /// @notice The record of `epoch` (all zero when it was never published).
    /// @param epoch The epoch to read.
    /// @return The epoch's root, total work, reward, reinvested share and publication time.
    function epochs(uint64 epoch) external view returns (Epoch memory) {
        return _epochs[epoch];
    }

    /// @inheritdoc IWorkRoots
    function verifyLeaf(
        uint64 epoch,
        address account,
        uint256 cumulativeWork,
        uint256 cumulativeReward,
        bytes32[] calldata proof
    ) public view returns (bool) {
        bytes32 root = _epochs[epoch].root;
        if (root == bytes32(0)) return false;
        return MerkleProof.verifyCalldata(proof, root, _leaf(account, cumulativeWork, cumulativeReward));
    }

    /// @inheritdoc IWorkRoots
    function totalWorkOf(uint64 epoch) external view returns (uint256) {
        return _epochs[epoch].totalWork;
    }

    function _claim(
        address account,
        uint64 epoch,
        uint256 cumulativeWork,
        uint256 cumulativeReward,
        bytes32[] calldata proof
    ) private {
        _requireLeaf(account, epoch, cumulativeWork, cumulativeReward, proof);
        uint256 already = claimed[account];
        if (cumulativeReward <= already) revert NothingToClaim(account, cumulativeReward, already);
        _pay(account, epoch, cumulativeReward, already);
    }

    function _requireLeaf(
        address account,
        uint64 epoch,
        uint256 cumulativeWork,
        uint256 cumulativeReward,
        bytes32[] calldata proof
    ) private view {
        uint64 publishedAt = _epochs[epoch].publishedAt;
        if (publishedAt == 0) revert UnknownEpoch(epoch);
        if (vetoedAt[epoch] != 0) revert RootWasVetoed(epoch);
        uint64 endsAt = _challengeEndsAt(publishedAt);
        if (block.timestamp < endsAt) revert RootInChallenge(epoch, endsAt);
        if (!verifyLeaf(epoch, account, cumulativeWork, cumulativeReward, proof)) revert InvalidProof(account, epoch);
    }

    /// @dev Effects before the transfer (checks-effects-interactions); `already` < `cumulativeReward`.
    function _pay(address account, uint64 epoch, uint256 cumulativeReward, uint256 already) private {
        uint256 amount = cumulativeReward - already;
        claimed[account] = cumulativeReward;
        emit Claimed(account, epoch, amount, cumulativeReward, msg.sender);
        rewardToken.safeTransfer(account, amount);
    }

    /// @dev The period in force at `publishedAt` (a change in the same second as a publication applies to it).
    function _challengeEndsAt(uint64 publishedAt) private view returns (uint64) {
        return publishedAt + uint64(_challengePeriods.upperLookupRecent(uint48(publishedAt)));
    }

    function _leaf(address account, uint256 cumulativeWork, uint256 cumulativeReward) private pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(account, cumulativeWork, cumulativeReward))));
    }
}
