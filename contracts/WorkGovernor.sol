// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {IWorkRoots} from "./IWorkRoots.sol";

/**
 * @title WorkGovernor
 * @notice Work-weighted governance without a token. A proposal is pinned to a published epoch; a
 * member's weight is the cumulativeWork of their leaf in that epoch's root, proven with the leaf
 * itself, so there is nothing to buy, transfer or delegate. Quorum is a share of the epoch's total
 * work.
 *
 * Votes and proposals are cast directly or as EIP-712 signatures that anyone (usually the gateway's
 * relayer) submits, so members need no gas. A vote cannot be replayed: each account votes once per
 * proposal, and the EIP-712 domain binds the signature to this chain and this contract. Signatures
 * go through OpenZeppelin's ECDSA, which refuses malleable (high-s) encodings.
 */
contract WorkGovernor is EIP712, Nonces {
    enum Kind {
        Signal,
        ParameterChange
    }

    enum Support {
        Against,
        For,
        Abstain
    }

    enum State {
        Active,
        Defeated,
        Succeeded,
        Executed
    }

    struct Proposal {
        address proposer;
        Kind kind;
        uint64 epoch;
        uint64 voteEnd;
        bool executed;
        bytes32 parameter;
        uint256 value;
        uint256 quorumWork;
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

    /// @notice What a proposer asks for. A Signal carries no parameter (both fields zero).
    struct ProposalRequest {
        Kind kind;
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
    bytes32 public constant REINVESTMENT_BPS = keccak256("reinvestmentBps");

    bytes32 public constant BALLOT_TYPEHASH = keccak256("Ballot(uint256 proposalId,uint8 support,address voter)");
    bytes32 public constant PROPOSAL_TYPEHASH = keccak256(
        "ProposalRequest(address proposer,uint8 kind,uint64 epoch,bytes32 parameter,uint256 value,bytes32 descriptionHash,uint256 nonce)"
    );

    uint16 private constant BPS = 10_000;

    IWorkRoots public immutable roots;
    uint64 public immutable votingPeriod;
    uint16 public immutable quorumBps;

    uint256 public proposalCount;
    mapping(uint256 proposalId => Proposal) private _proposals;
    mapping(uint256 proposalId => mapping(address voter => bool)) public hasVoted;
    /// @notice Current value of each parameter the DAO governs.
    mapping(bytes32 parameter => uint256) public parameters;
    /// @notice Highest value a parameter may take; 0 means the parameter does not exist.
    mapping(bytes32 parameter => uint256) public parameterMax;

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
    event VoteCast(uint256 indexed proposalId, address indexed voter, Support support, uint256 weight, address submitter);
    event ProposalExecuted(uint256 indexed proposalId);
    event ParameterChanged(bytes32 indexed parameter, uint256 oldValue, uint256 newValue);

    error ZeroAddress();
    error InvalidConfiguration();
    error UnknownEpoch(uint64 epoch);
    error UnknownProposal(uint256 proposalId);
    error UnknownParameter(bytes32 parameter);
    error ParameterOutOfRange(bytes32 parameter, uint256 value, uint256 max);
    error SignalWithParameter();
    error NotAMember(address account, uint64 epoch);
    error InvalidSignature(address expectedSigner);
    error VotingClosed(uint256 proposalId, uint64 voteEnd);
    error AlreadyVoted(uint256 proposalId, address voter);
    error ProposalNotSucceeded(uint256 proposalId, State state);

    constructor(IWorkRoots roots_, uint64 votingPeriodSeconds, uint16 quorumBps_, uint256 reinvestmentBps)
        EIP712("WorkGovernor", "1")
    {
        if (address(roots_) == address(0)) revert ZeroAddress();
        if (votingPeriodSeconds == 0 || quorumBps_ == 0 || quorumBps_ > BPS) revert InvalidConfiguration();
        if (reinvestmentBps > BPS) revert ParameterOutOfRange(REINVESTMENT_BPS, reinvestmentBps, BPS);
        roots = roots_;
        votingPeriod = votingPeriodSeconds;
        quorumBps = quorumBps_;
        parameterMax[REINVESTMENT_BPS] = BPS;
        parameters[REINVESTMENT_BPS] = reinvestmentBps;
    }

    // ---------------------------------------------------------------- proposals

    /// @notice Opens a proposal pinned to `request.epoch`; the caller proves their own leaf in it.
    function propose(ProposalRequest calldata request, Leaf calldata proposerLeaf) external returns (uint256) {
        return _propose(msg.sender, request, proposerLeaf);
    }

    /// @notice Opens a proposal signed by `proposer` (EIP-712 ProposalRequest); anyone may submit it.
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
    function castVote(uint256 proposalId, Support support, Leaf calldata leaf) external {
        _castVote(proposalId, support, msg.sender, leaf);
    }

    /// @notice Submits one EIP-712 signed ballot.
    function castVoteBySig(SignedBallot calldata ballot) external {
        _castSigned(ballot);
    }

    /// @notice Submits signed ballots in one transaction. Reverts as a whole if one is invalid: a
    /// relayer checks each (e.g. with a static call of castVoteBySig) before batching.
    function castVotesBySig(SignedBallot[] calldata ballots) external {
        for (uint256 i = 0; i < ballots.length; ++i) _castSigned(ballots[i]);
    }

    // ---------------------------------------------------------------- outcome

    /// @notice Applies a succeeded proposal (a parameter change takes effect now). Anyone may call.
    function execute(uint256 proposalId) external {
        State current = state(proposalId);
        if (current != State.Succeeded) revert ProposalNotSucceeded(proposalId, current);
        Proposal storage p = _proposals[proposalId];
        p.executed = true;
        emit ProposalExecuted(proposalId);
        if (p.kind == Kind.ParameterChange) {
            uint256 oldValue = parameters[p.parameter];
            parameters[p.parameter] = p.value;
            emit ParameterChanged(p.parameter, oldValue, p.value);
        }
    }

    /// @notice Active until voteEnd (inclusive); then Succeeded when quorum is met and For beats Against.
    function state(uint256 proposalId) public view returns (State) {
        Proposal storage p = _proposal(proposalId);
        if (p.executed) return State.Executed;
        if (block.timestamp <= p.voteEnd) return State.Active;
        uint256 turnout = p.forWork + p.againstWork + p.abstainWork;
        return turnout >= p.quorumWork && p.forWork > p.againstWork ? State.Succeeded : State.Defeated;
    }

    function getProposal(uint256 proposalId) external view returns (Proposal memory) {
        return _proposal(proposalId);
    }

    /// @notice The EIP-712 domain separator (for off-chain signers and checks).
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    // ---------------------------------------------------------------- internals

    function _propose(address proposer, ProposalRequest calldata request, Leaf calldata proposerLeaf)
        private
        returns (uint256 proposalId)
    {
        uint256 totalWork = roots.totalWorkOf(request.epoch);
        if (totalWork == 0) revert UnknownEpoch(request.epoch);
        if (request.kind == Kind.ParameterChange) {
            uint256 max = parameterMax[request.parameter];
            if (max == 0) revert UnknownParameter(request.parameter);
            if (request.value > max) revert ParameterOutOfRange(request.parameter, request.value, max);
        } else if (request.parameter != bytes32(0) || request.value != 0) {
            revert SignalWithParameter();
        }
        _requireWeight(request.epoch, proposer, proposerLeaf);

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

    function _castSigned(SignedBallot calldata ballot) private {
        bytes32 structHash = keccak256(abi.encode(BALLOT_TYPEHASH, ballot.proposalId, uint8(ballot.support), ballot.voter));
        _checkSignature(ballot.voter, structHash, ballot.signature);
        _castVote(ballot.proposalId, ballot.support, ballot.voter, ballot.leaf);
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

    function _checkSignature(address expectedSigner, bytes32 structHash, bytes calldata signature) private view {
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(_hashTypedDataV4(structHash), signature);
        if (err != ECDSA.RecoverError.NoError || signer != expectedSigner) revert InvalidSignature(expectedSigner);
    }

    function _proposal(uint256 proposalId) private view returns (Proposal storage p) {
        p = _proposals[proposalId];
        if (p.voteEnd == 0) revert UnknownProposal(proposalId);
    }
}
