// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {IWorkRoots} from "./IWorkRoots.sol";
import {ISpendingErrors, Treasury} from "./Treasury.sol";

/**
 * @title WorkGovernor
 * @notice Work-weighted governance without a token. A proposal is pinned to the latest final
 * epoch when it is created; a member's weight is the cumulativeWork of their leaf in that epoch's
 * root, proven with the leaf itself, so there is nothing to buy, transfer or delegate. Quorum is a
 * share of the epoch's total work. The proposer cannot pick an older epoch: that would let early
 * members choose an electorate that leaves out everyone who joined since.
 *
 * Votes and proposals are cast directly or as EIP-712 signatures that anyone (usually the gateway's
 * relayer) submits, so members need no gas. A vote cannot be replayed: each account votes once per
 * proposal, and the EIP-712 domain binds the signature to this chain and this contract. Signatures
 * go through OpenZeppelin's ECDSA, which refuses malleable (high-s) encodings.
 */
contract WorkGovernor is EIP712, Nonces, ISpendingErrors {
    /// @notice What a passed proposal does: nothing on chain (Signal), set one parameter, or pay
    /// from the treasury (Spending: `parameter` packs the recipient and category, see
    /// spendingParameter; `value` is the amount).
    enum Kind {
        Signal,
        ParameterChange,
        Spending
    }

    /// @notice A voter's choice; Abstain counts toward quorum only.
    enum Support {
        Against,
        For,
        Abstain
    }

    /// @notice Where a proposal stands; see state().
    enum State {
        Active,
        Defeated,
        Succeeded,
        Executed,
        /// Passed, but its execution window closed before anyone executed it.
        Expired,
        /// Passed, but a later proposal on the same parameter was applied first: executing it
        /// would undo a newer decision.
        Superseded
    }

    /// @notice A proposal and its running tally.
    struct Proposal {
        address proposer;
        Kind kind;
        /// The epoch whose root weighs every vote.
        uint64 epoch;
        /// Last second (block timestamp) at which votes are counted.
        uint64 voteEnd;
        bool executed;
        /// The parameter a ParameterChange sets, and its new value (both zero for a Signal); for a
        /// Spending, the packed recipient and category, and the amount.
        bytes32 parameter;
        uint256 value;
        /// quorumBps of the epoch's total work, rounded up: the turnout needed to pass.
        uint256 quorumWork;
        /// The sums of the voters' cumulativeWork by support.
        uint256 forWork;
        uint256 againstWork;
        uint256 abstainWork;
    }

    /// @notice The member's leaf in the proposal's epoch: the proof of their weight.
    struct Leaf {
        uint256 cumulativeWork;
        uint256 cumulativeReward;
        bytes32[] proof;
    }

    /// @notice What a proposer asks for. A Signal carries no parameter (both fields zero); a
    /// Spending carries spendingParameter(recipient, category) and the amount as its value.
    struct ProposalRequest {
        Kind kind;
        /// Must be the latest final epoch when the proposal is created (else EpochNotLatest):
        /// it is signed, so a signature names the electorate its proposer saw.
        uint64 epoch;
        bytes32 parameter;
        uint256 value;
        string description;
    }

    /// @notice A signed vote as a relayer submits it.
    struct SignedBallot {
        uint256 proposalId;
        Support support;
        address voter;
        Leaf leaf;
        bytes signature;
    }

    /// @notice The share of each epoch's reward that the DAO reinvests (hardware), in basis points.
    /// @return The parameter's key in `parameters`, keccak256("reinvestmentBps").
    bytes32 public constant REINVESTMENT_BPS = keccak256("reinvestmentBps");

    /// @notice The work (cumulative expected hashes) a proposer must have committed in the epoch a
    /// proposal is pinned to; 0 at deployment (any member), raised by a ParameterChange proposal.
    /// @dev Keeps members who did next to no work from opening proposals at the relayer's expense.
    /// @return The parameter's key in `parameters`, keccak256("proposalThresholdWork").
    bytes32 public constant PROPOSAL_THRESHOLD_WORK = keccak256("proposalThresholdWork");

    /// @notice How long a published root can be vetoed before it becomes final (claimable, and the
    /// epoch new proposals are pinned to), in seconds. Held by the distributor, which this governor
    /// sets when such a ParameterChange is executed; it applies to roots published afterwards.
    /// @return The parameter's key in `parameters`, keccak256("challengePeriodSeconds").
    bytes32 public constant CHALLENGE_PERIOD_SECONDS = keccak256("challengePeriodSeconds");

    /// @notice EIP-712 type hash of a signed ballot.
    /// @dev The leaf is not signed: it only proves weight, and a wrong one fails verification anyway.
    /// @return keccak256 of the Ballot type string.
    bytes32 public constant BALLOT_TYPEHASH = keccak256("Ballot(uint256 proposalId,uint8 support,address voter)");
    /// @notice EIP-712 type hash of a signed proposal request.
    /// @dev Carries the proposer's nonce, so one signature opens one proposal only.
    /// @return keccak256 of the ProposalRequest type string.
    bytes32 public constant PROPOSAL_TYPEHASH = keccak256(
        "ProposalRequest(address proposer,uint8 kind,uint64 epoch,bytes32 parameter,uint256 value,bytes32 descriptionHash,uint256 nonce)"
    );

    uint16 private constant BPS = 10_000;
    /// Ten years: bounds voteEnd + executionWindow far inside uint64.
    uint64 private constant MAX_EXECUTION_WINDOW = 3650 days;
    /// The distributor's MAX_CHALLENGE_PERIOD: a longer one could never be applied.
    uint256 private constant MAX_CHALLENGE_PERIOD = 30 days;

    /// @notice The published roots that weigh members (the RewardDistributor).
    /// @return The roots contract's address.
    IWorkRoots public immutable roots;
    /// @notice How long a proposal takes votes after it is opened, in seconds.
    /// @return The voting period in seconds.
    uint64 public immutable votingPeriod;
    /// @notice The turnout a proposal needs, in basis points of its epoch's total work.
    /// @return The quorum in basis points.
    uint16 public immutable quorumBps;
    /// @notice How long a passed proposal stays executable after its vote ends, in seconds: from
    /// voteEnd + 1 to voteEnd + executionWindow inclusive. Past it the proposal is Expired.
    /// @dev Fixed at deployment, so no proposal's deadline moves while it waits.
    /// @return The execution window in seconds.
    uint64 public immutable executionWindow;

    /// @notice Pays passed spending proposals; holds the reinvested share of every epoch.
    /// @return The treasury's address.
    Treasury public immutable treasury;

    /// @notice Number of proposals opened so far; also the id of the latest (ids start at 1).
    /// @return The count.
    uint256 public proposalCount;
    mapping(uint256 proposalId => Proposal) private _proposals;
    /// @notice Whether `voter` has voted on `proposalId` (directly or by signature).
    /// @return True once the vote was counted.
    mapping(uint256 proposalId => mapping(address voter => bool)) public hasVoted;
    /// @notice Current value of each parameter the DAO governs.
    /// @return The value (0 for a parameter that does not exist).
    mapping(bytes32 parameter => uint256) public parameters;
    /// @notice Highest value a parameter may take; 0 means the parameter does not exist.
    /// @return The maximum.
    mapping(bytes32 parameter => uint256) public parameterMax;
    /// @notice The id of the last proposal applied to each parameter (0 before any). Ids follow
    /// creation order, so an older proposal (a lower id) can no longer be applied.
    /// @return The proposal id.
    mapping(bytes32 parameter => uint256) public lastApplied;

    /// @notice A proposal was opened.
    /// @param proposalId The new proposal's id.
    /// @param proposer The member who proposed (the signer, for proposeBySig).
    /// @param kind Signal or ParameterChange.
    /// @param epoch The epoch whose root weighs the votes.
    /// @param parameter The parameter to set (zero for a Signal).
    /// @param value The value to set it to (zero for a Signal).
    /// @param voteEnd Last second at which votes are counted.
    /// @param quorumWork The turnout needed to pass.
    /// @param description Free text for members; only its hash is signed.
    event ProposalCreated(
        uint256 indexed proposalId,
        address indexed proposer,
        Kind kind,
        uint64 indexed epoch,
        bytes32 parameter,
        uint256 value,
        uint64 voteEnd,
        uint256 quorumWork,
        string description
    );
    /// @notice A vote was counted.
    /// @param proposalId The proposal voted on.
    /// @param voter The member whose work was counted.
    /// @param support For, Against or Abstain.
    /// @param weight The voter's cumulativeWork in the proposal's epoch.
    /// @param submitter Who sent the transaction (the voter or a relayer).
    event VoteCast(uint256 indexed proposalId, address indexed voter, Support support, uint256 weight, address submitter);
    /// @notice A ballot in a castVotesBySig batch was skipped because it was already done: the
    /// voter has voted on the proposal (say, the same ballot sent alone and mined before the batch).
    /// Nothing is counted and nothing changes.
    /// @param proposalId The proposal.
    /// @param voter The voter who had already voted.
    /// @param reason The selector of the error castVoteBySig would revert with (AlreadyVoted).
    event VoteSkipped(uint256 indexed proposalId, address indexed voter, bytes4 reason);
    /// @notice A succeeded proposal was executed.
    /// @param proposalId The proposal executed.
    event ProposalExecuted(uint256 indexed proposalId);
    /// @notice An executed ParameterChange set a parameter.
    /// @param parameter The parameter set.
    /// @param oldValue Its value before.
    /// @param newValue Its value now.
    event ParameterChanged(bytes32 indexed parameter, uint256 oldValue, uint256 newValue);

    /// @notice The roots or treasury address was zero.
    error ZeroAddress();
    /// @notice A zero voting period, an execution window of 0 or above 3650 days, a quorum of zero
    /// or above 100 %, or a treasury whose governor is another contract.
    error InvalidConfiguration();
    /// @notice The epoch has no published root, or its root carries no work (totalWorkOf is 0).
    /// @param epoch The epoch asked for.
    error UnknownEpoch(uint64 epoch);
    /// @notice A proposal named an epoch other than the latest final one (see IWorkRoots.isFinal).
    /// @param epoch The epoch the request named.
    /// @param latestEpoch The latest final epoch: the one to sign the request for.
    error EpochNotLatest(uint64 epoch, uint64 latestEpoch);
    /// @notice No proposal has this id.
    /// @param proposalId The id asked for.
    error UnknownProposal(uint256 proposalId);
    /// @notice The parameter is not governed here (its maximum is 0).
    /// @param parameter The parameter asked for.
    error UnknownParameter(bytes32 parameter);
    /// @notice The value is above the parameter's maximum.
    /// @param parameter The parameter.
    /// @param value The value asked for.
    /// @param max The highest value allowed.
    error ParameterOutOfRange(bytes32 parameter, uint256 value, uint256 max);
    /// @notice A Signal proposal named a parameter or a value.
    error SignalWithParameter();
    /// @notice A Spending proposal's parameter is not spendingParameter(recipient, category) for a
    /// known category (bits above the category byte set, or a category above Other).
    /// @param parameter The parameter asked for.
    error InvalidSpendingParameter(bytes32 parameter);

    /// @notice The proposer's work in the pinned epoch is below the PROPOSAL_THRESHOLD_WORK parameter.
    /// @param proposer The would-be proposer.
    /// @param work The proposer's cumulative work in the pinned epoch.
    /// @param threshold The work a proposer needs.
    error BelowProposalThreshold(address proposer, uint256 work, uint256 threshold);
    /// @notice The leaf is not the account's in the epoch's root, or it has no work.
    /// @param account The account that needed weight.
    /// @param epoch The epoch checked.
    error NotAMember(address account, uint64 epoch);
    /// @notice The signature is malformed, malleable, or not by the expected signer over this content.
    /// @param expectedSigner The account that should have signed.
    error InvalidSignature(address expectedSigner);
    /// @notice The proposal's voting period is over.
    /// @param proposalId The proposal.
    /// @param voteEnd Its last voting second.
    error VotingClosed(uint256 proposalId, uint64 voteEnd);
    /// @notice The account has already voted on the proposal.
    /// @param proposalId The proposal.
    /// @param voter The account.
    error AlreadyVoted(uint256 proposalId, address voter);
    /// @notice Only a Succeeded proposal can be executed.
    /// @param proposalId The proposal.
    /// @param state Its current state.
    error ProposalNotSucceeded(uint256 proposalId, State state);
    /// @notice The proposal passed, but its execution window is over.
    /// @param proposalId The proposal.
    /// @param executableUntil The last second at which it could be executed.
    error ProposalExpired(uint256 proposalId, uint64 executableUntil);
    /// @notice A later proposal on the same parameter was already applied.
    /// @param proposalId The proposal.
    /// @param appliedProposalId The later proposal whose value stands.
    error ProposalSuperseded(uint256 proposalId, uint256 appliedProposalId);

    /// @param roots_ The published roots that weigh members (the RewardDistributor).
    /// @param votingPeriodSeconds How long each proposal takes votes; above 0.
    /// @param quorumBps_ The turnout needed, in basis points of the epoch's total work; 1 to 10000.
    /// @param reinvestmentBps The initial REINVESTMENT_BPS parameter; at most 10000.
    /// @param executionWindowSeconds How long a passed proposal stays executable after its vote; 1 s to 3650 days.
    /// @param treasury_ The treasury that pays spending proposals; its governor must be this contract.
    constructor(
        IWorkRoots roots_,
        uint64 votingPeriodSeconds,
        uint16 quorumBps_,
        uint256 reinvestmentBps,
        uint64 executionWindowSeconds,
        Treasury treasury_
    ) EIP712("WorkGovernor", "1") {
        if (address(roots_) == address(0) || address(treasury_) == address(0)) revert ZeroAddress();
        if (votingPeriodSeconds == 0 || executionWindowSeconds == 0 || executionWindowSeconds > MAX_EXECUTION_WINDOW || quorumBps_ == 0 || quorumBps_ > BPS) {
            revert InvalidConfiguration();
        }
        // A treasury deployed for another governor could never pay this one's proposals.
        if (treasury_.governor() != address(this)) revert InvalidConfiguration();
        treasury = treasury_;
        if (reinvestmentBps > BPS) revert ParameterOutOfRange(REINVESTMENT_BPS, reinvestmentBps, BPS);
        roots = roots_;
        votingPeriod = votingPeriodSeconds;
        quorumBps = quorumBps_;
        executionWindow = executionWindowSeconds;
        parameterMax[REINVESTMENT_BPS] = BPS;
        parameters[REINVESTMENT_BPS] = reinvestmentBps;
        parameterMax[PROPOSAL_THRESHOLD_WORK] = type(uint256).max;
        parameterMax[CHALLENGE_PERIOD_SECONDS] = MAX_CHALLENGE_PERIOD;
        // The distributor holds the period in force; this copy is what proposals change.
        parameters[CHALLENGE_PERIOD_SECONDS] = roots_.challengePeriod();
    }

    // ---------------------------------------------------------------- proposals

    /// @notice Opens a proposal pinned to the latest final epoch (published, past its challenge
    /// period, not vetoed), which `request.epoch` must name; the caller proves their own leaf in it.
    /// @dev Pinning to one published epoch fixes every member's weight for the whole vote, so work
    /// done (or roots published) while it runs cannot change the outcome; pinning to the latest
    /// gives every member known so far a vote, so no proposer can choose an electorate.
    /// @param request What is proposed; its epoch is the latest final one, and a
    /// ParameterChange's value must be within the parameter's maximum.
    /// @param proposerLeaf The caller's leaf in `request.epoch`, with non-zero work.
    /// @return The new proposal's id.
    function propose(ProposalRequest calldata request, Leaf calldata proposerLeaf) external returns (uint256) {
        return _propose(msg.sender, request, proposerLeaf);
    }

    /// @notice Opens a proposal signed by `proposer` (EIP-712 ProposalRequest); anyone may submit it.
    /// @dev The signature covers the proposer's current nonce, which is used up here, so it cannot be
    /// replayed; a reverted call leaves the nonce unused.
    /// @param proposer The member who signed, and who is recorded as the proposer.
    /// @param request What is proposed, exactly as signed (the description is signed by its hash).
    /// @param proposerLeaf The proposer's leaf in `request.epoch`, with non-zero work.
    /// @param signature The proposer's EIP-712 signature over the request and nonce.
    /// @return The new proposal's id.
    function proposeBySig(
        address proposer,
        ProposalRequest calldata request,
        Leaf calldata proposerLeaf,
        bytes calldata signature
    ) external returns (uint256) {
        _checkSignature(proposer, _proposalStructHash(proposer, request), signature);
        return _propose(proposer, request, proposerLeaf);
    }

    // ---------------------------------------------------------------- votes

    /// @notice Votes as the caller, with the caller's leaf in the proposal's epoch.
    /// @param proposalId The proposal, while Active.
    /// @param support For, Against or Abstain.
    /// @param leaf The caller's leaf in the proposal's epoch; its cumulativeWork is the weight.
    function castVote(uint256 proposalId, Support support, Leaf calldata leaf) external {
        _castVote(proposalId, support, msg.sender, leaf);
    }

    /// @notice Submits one EIP-712 signed ballot.
    /// @dev A ballot cannot be counted twice: hasVoted records the voter, whichever way they voted.
    /// @param ballot The ballot, its voter's leaf and the voter's signature.
    function castVoteBySig(SignedBallot calldata ballot) external {
        _castSigned(ballot);
    }

    /// @notice Submits signed ballots in one transaction. A ballot whose voter has already voted on
    /// its proposal is skipped with VoteSkipped instead of reverting, so anyone who copies one
    /// ballot out of a pending batch and sends it first cannot drop the others.
    /// @dev The signature is checked before the skip, so only the voter's own ballot can be skipped.
    /// Invalid input still reverts the whole batch (InvalidSignature, UnknownProposal,
    /// VotingClosed, NotAMember): a relayer checks each ballot (a static call of castVoteBySig)
    /// before batching, and after a revert checks each again to find the one at fault.
    /// @param ballots The ballots, each checked and counted as by castVoteBySig.
    function castVotesBySig(SignedBallot[] calldata ballots) external {
        for (uint256 i = 0; i < ballots.length; ++i) {
            SignedBallot calldata ballot = ballots[i];
            _checkBallotSignature(ballot);
            if (hasVoted[ballot.proposalId][ballot.voter]) {
                emit VoteSkipped(ballot.proposalId, ballot.voter, AlreadyVoted.selector);
                continue;
            }
            _castVote(ballot.proposalId, ballot.support, ballot.voter, ballot.leaf);
        }
    }

    // ---------------------------------------------------------------- outcome

    /// @notice Applies a succeeded proposal (a parameter change takes effect now, a spending is paid
    /// by the treasury). Anyone may call, from the second after its vote ends until
    /// executableUntil(proposalId).
    /// @dev Marked executed, and recorded as its parameter's last applied proposal, before the
    /// parameter is written or the treasury pays, so it runs once and no older proposal can follow
    /// it. A Signal is only marked executed. A spending over the treasury's balance reverts
    /// (Treasury.AmountOverBalance) and stays Succeeded: it can be executed once the treasury holds
    /// enough, within its window.
    /// @param proposalId A proposal in state Succeeded.
    function execute(uint256 proposalId) external {
        State current = state(proposalId);
        if (current != State.Succeeded) {
            Proposal storage refused = _proposals[proposalId];
            if (current == State.Superseded) revert ProposalSuperseded(proposalId, lastApplied[refused.parameter]);
            if (current == State.Expired) revert ProposalExpired(proposalId, refused.voteEnd + executionWindow);
            revert ProposalNotSucceeded(proposalId, current);
        }
        Proposal storage p = _proposals[proposalId];
        p.executed = true;
        emit ProposalExecuted(proposalId);
        if (p.kind == Kind.ParameterChange) {
            lastApplied[p.parameter] = proposalId;
            uint256 oldValue = parameters[p.parameter];
            parameters[p.parameter] = p.value;
            emit ParameterChanged(p.parameter, oldValue, p.value);
            if (p.parameter == CHALLENGE_PERIOD_SECONDS) roots.setChallengePeriod(p.value);
        } else if (p.kind == Kind.Spending) {
            (address recipient, Treasury.Category category) = _decodeSpending(p.parameter);
            treasury.pay(proposalId, recipient, p.value, category);
        }
    }

    /// @notice The `parameter` of a Spending proposal: the recipient in the low 20 bytes and the
    /// category in the byte above them (the rest zero), so a spending signs with the same
    /// ProposalRequest type as every other proposal.
    /// @param recipient Who the treasury would pay.
    /// @param category What the payment is for.
    /// @return bytes32(uint256(category) << 160 | uint160(recipient)).
    function spendingParameter(address recipient, Treasury.Category category) external pure returns (bytes32) {
        return bytes32((uint256(category) << 160) | uint256(uint160(recipient)));
    }

    /// @notice Active until voteEnd (inclusive); then Defeated, or, when quorum is met and For beats
    /// Against, Succeeded until executed (Executed), overtaken by a later applied proposal on the
    /// same parameter (Superseded), or left past executableUntil (Expired).
    /// @dev Quorum counts For, Against and Abstain; a tie of For and Against is Defeated. Superseded
    /// wins over Expired: such a proposal could never run, whatever the time.
    /// @param proposalId An existing proposal.
    /// @return The proposal's state now.
    function state(uint256 proposalId) public view returns (State) {
        Proposal storage p = _proposal(proposalId);
        if (p.executed) return State.Executed;
        if (block.timestamp <= p.voteEnd) return State.Active;
        uint256 turnout = p.forWork + p.againstWork + p.abstainWork;
        if (turnout < p.quorumWork || p.forWork <= p.againstWork) return State.Defeated;
        if (p.kind == Kind.ParameterChange && lastApplied[p.parameter] > proposalId) return State.Superseded;
        if (block.timestamp > p.voteEnd + executionWindow) return State.Expired;
        return State.Succeeded;
    }

    /// @notice The last second at which a passed proposal can be executed.
    /// @param proposalId An existing proposal.
    /// @return voteEnd + executionWindow, in Unix seconds.
    function executableUntil(uint256 proposalId) external view returns (uint64) {
        return _proposal(proposalId).voteEnd + executionWindow;
    }

    /// @notice A proposal with its tally so far.
    /// @param proposalId An existing proposal.
    /// @return The stored proposal.
    function getProposal(uint256 proposalId) external view returns (Proposal memory) {
        return _proposal(proposalId);
    }

    /// @notice The EIP-712 domain separator (for off-chain signers and checks).
    /// @return The separator for name "WorkGovernor", version "1", this chain and this contract.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ---------------------------------------------------------------- internals

    function _propose(address proposer, ProposalRequest calldata request, Leaf calldata proposerLeaf)
        private
        returns (uint256 proposalId)
    {
        uint256 totalWork = _latestEpochWork(request.epoch);
        if (request.kind == Kind.ParameterChange) {
            uint256 max = parameterMax[request.parameter];
            if (max == 0) revert UnknownParameter(request.parameter);
            if (request.value > max) revert ParameterOutOfRange(request.parameter, request.value, max);
        } else if (request.kind == Kind.Spending) {
            (address recipient,) = _decodeSpending(request.parameter);
            // The treasury's own rules (amount, recipient, description, balance now), with its errors.
            treasury.checkSpending(recipient, request.value, request.description);
        } else if (request.parameter != bytes32(0) || request.value != 0) {
            revert SignalWithParameter();
        }
        // In a function of its own: another local here is one too many for the stack.
        _requireProposalThreshold(proposer, _requireWeight(request.epoch, proposer, proposerLeaf));

        proposalId = ++proposalCount;
        uint64 voteEnd = uint64(block.timestamp) + votingPeriod;
        // Rounded up, so a quorum of x% is never met by slightly less than x% of the work.
        uint256 quorumWork = (totalWork * quorumBps + BPS - 1) / BPS;
        Proposal storage p = _proposals[proposalId];
        p.proposer = proposer;
        p.kind = request.kind;
        p.epoch = request.epoch;
        p.voteEnd = voteEnd;
        p.parameter = request.parameter;
        p.value = request.value;
        p.quorumWork = quorumWork;
        emit ProposalCreated(
            proposalId,
            proposer,
            request.kind,
            request.epoch,
            request.parameter,
            request.value,
            voteEnd,
            quorumWork,
            request.description
        );
    }

    function _decodeSpending(bytes32 parameter) private pure returns (address recipient, Treasury.Category category) {
        uint256 packed = uint256(parameter);
        uint256 rawCategory = packed >> 160;
        if (rawCategory > uint256(type(Treasury.Category).max)) revert InvalidSpendingParameter(parameter);
        recipient = address(uint160(packed));
        category = Treasury.Category(rawCategory);
    }

    function _proposalStructHash(address proposer, ProposalRequest calldata request) private returns (bytes32) {
        return keccak256(
            abi.encode(
                PROPOSAL_TYPEHASH,
                proposer,
                uint8(request.kind),
                request.epoch,
                request.parameter,
                request.value,
                keccak256(bytes(request.description)),
                _useNonce(proposer)
            )
        );
    }

    /// @dev The total work of `epoch`, which must be the latest final epoch (in a function of
    /// its own: _propose has no stack slot left for the latest epoch). A root still challengeable
    /// could be vetoed while its proposal runs; a final one never can, so votes weighed by it stand.
    function _latestEpochWork(uint64 epoch) private view returns (uint256 totalWork) {
        uint64 latest = roots.latestFinalEpoch();
        if (epoch != latest) revert EpochNotLatest(epoch, latest);
        totalWork = roots.totalWorkOf(epoch);
        if (totalWork == 0) revert UnknownEpoch(epoch);
    }

    function _castSigned(SignedBallot calldata ballot) private {
        _checkBallotSignature(ballot);
        _castVote(ballot.proposalId, ballot.support, ballot.voter, ballot.leaf);
    }

    function _checkBallotSignature(SignedBallot calldata ballot) private view {
        bytes32 structHash = keccak256(abi.encode(BALLOT_TYPEHASH, ballot.proposalId, uint8(ballot.support), ballot.voter));
        _checkSignature(ballot.voter, structHash, ballot.signature);
    }

    function _castVote(uint256 proposalId, Support support, address voter, Leaf calldata leaf) private {
        Proposal storage p = _proposal(proposalId);
        if (block.timestamp > p.voteEnd) revert VotingClosed(proposalId, p.voteEnd);
        if (hasVoted[proposalId][voter]) revert AlreadyVoted(proposalId, voter);
        uint256 weight = _requireWeight(p.epoch, voter, leaf);

        hasVoted[proposalId][voter] = true;
        if (support == Support.For) p.forWork += weight;
        else if (support == Support.Against) p.againstWork += weight;
        else p.abstainWork += weight;
        emit VoteCast(proposalId, voter, support, weight, msg.sender);
    }

    function _requireWeight(uint64 epoch, address account, Leaf calldata leaf) private view returns (uint256) {
        if (leaf.cumulativeWork == 0 || !roots.verifyLeaf(epoch, account, leaf.cumulativeWork, leaf.cumulativeReward, leaf.proof)) {
            revert NotAMember(account, epoch);
        }
        return leaf.cumulativeWork;
    }

    function _requireProposalThreshold(address proposer, uint256 work) private view {
        uint256 threshold = parameters[PROPOSAL_THRESHOLD_WORK];
        if (work < threshold) revert BelowProposalThreshold(proposer, work, threshold);
    }

    function _checkSignature(address expectedSigner, bytes32 structHash, bytes calldata signature) private view {
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(_hashTypedDataV4(structHash), signature);
        if (err != ECDSA.RecoverError.NoError || signer != expectedSigner) revert InvalidSignature(expectedSigner);
    }

    function _proposal(uint256 proposalId) private view returns (Proposal storage p) {
        p = _proposals[proposalId];
        if (p.voteEnd == 0) revert UnknownProposal(proposalId);
    }
}
