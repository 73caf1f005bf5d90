// EIP-712 messages that members sign with their key and the gateway relays: the same definitions
// for the browser (signing), the gateway (checking before it spends gas) and the tests. The
// Ballot and ProposalRequest types must match WorkGovernor.sol's typehashes character for
// character; ClaimRequest is checked off-chain only (a claim pays the leaf's account whoever
// submits it, so the signature only stops strangers from spending the relayer's gas).

// Declared here rather than imported from ethers, whose types pull in @types/node (see
// protocol/tsconfig.json); ethers' signTypedData and verifyTypedData take these as they are.
/** An EIP-712 domain, with the fields these messages bind. */
export interface TypedDataDomain {
  name: string;
  version: string;
  chainId: number | bigint;
  verifyingContract: string;
}

/** One member of an EIP-712 struct type. */
export interface TypedDataField {
  name: string;
  type: string;
}

export type Types = Record<string, TypedDataField[]>;

/** WorkGovernor.Support, as the uint8 it is signed and stored as. */
export const VoteSupport = { Against: 0, For: 1, Abstain: 2 } as const;
export type VoteSupport = (typeof VoteSupport)[keyof typeof VoteSupport];

/** WorkGovernor.Kind. A Spending's parameter and value are set by spendingParameter (spending.ts). */
export const ProposalKind = { Signal: 0, ParameterChange: 1, Spending: 2 } as const;
export type ProposalKind = (typeof ProposalKind)[keyof typeof ProposalKind];

/** keccak256("reinvestmentBps"): the governed share of rewards reinvested, in basis points. */
export const REINVESTMENT_BPS_PARAMETER = '0xae0934548ea62c1dd4304cac534b274c0facbb14d814f62a72cdd7a30f0eaae9';
/** keccak256("proposalThresholdWork"): the work a proposer needs in the pinned epoch (WorkGovernor.PROPOSAL_THRESHOLD_WORK). */
export const PROPOSAL_THRESHOLD_WORK_PARAMETER = '0x5b2b838cfc75d08d105fab1f25b1fa0d41c75a9446b3033772e8a1f292e98c7f';
/** keccak256("challengePeriodSeconds"): how long a published root can be vetoed before it is final (WorkGovernor.CHALLENGE_PERIOD_SECONDS). */
export const CHALLENGE_PERIOD_SECONDS_PARAMETER = '0x5b1dc8815c3cd9d1edfa2453ac268cf7b178df905d9401523348c60d19674f9e';

export function governorDomain(chainId: number | bigint, governor: string): TypedDataDomain {
  return { name: 'WorkGovernor', version: '1', chainId, verifyingContract: governor };
}

/** Off-chain only: the relayer's domain for claim requests, bound to the distributor. */
export function relayDomain(chainId: number | bigint, distributor: string): TypedDataDomain {
  return { name: 'RewardDistributor relay', version: '1', chainId, verifyingContract: distributor };
}

export const BALLOT_TYPES: Types = {
  Ballot: [
    { name: 'proposalId', type: 'uint256' },
    { name: 'support', type: 'uint8' },
    { name: 'voter', type: 'address' },
  ],
};

export interface Ballot {
  proposalId: bigint;
  support: VoteSupport;
  voter: string;
}

export const PROPOSAL_REQUEST_TYPES: Types = {
  ProposalRequest: [
    { name: 'proposer', type: 'address' },
    { name: 'kind', type: 'uint8' },
    { name: 'epoch', type: 'uint64' },
    { name: 'parameter', type: 'bytes32' },
    { name: 'value', type: 'uint256' },
    { name: 'descriptionHash', type: 'bytes32' },
    { name: 'nonce', type: 'uint256' },
  ],
};

export interface ProposalRequestMessage {
  proposer: string;
  kind: ProposalKind;
  epoch: bigint;
  parameter: string;
  value: bigint;
  /** keccak256 of the UTF-8 description. */
  descriptionHash: string;
  nonce: bigint;
}

export const CLAIM_REQUEST_TYPES: Types = {
  ClaimRequest: [
    { name: 'account', type: 'address' },
    // The published epoch whose leaf is claimed: a request is good for that epoch only, so a
    // signature replayed after the next epoch is published is refused before it costs gas.
    { name: 'epoch', type: 'uint64' },
    { name: 'deadline', type: 'uint256' },
  ],
};

export interface ClaimRequestMessage {
  account: string;
  /** The latest published epoch when signed: the relayer claims that epoch's leaf and no other. */
  epoch: bigint;
  /** Seconds since the Unix epoch after which the relayer refuses the request. */
  deadline: bigint;
}
