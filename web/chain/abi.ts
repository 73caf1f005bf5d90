// The few contract functions and events the web app calls, as human-readable ABI fragments.
// Written out rather than imported from build/contracts/*.json: those artifacts carry the
// creation bytecode and every function of AccessControl, which the page never uses, and they only
// exist after a build. test/chain.browser.test.ts checks each fragment below against the compiled
// artifacts, so a changed contract cannot leave the page calling a stale signature.

export const DISTRIBUTOR_ABI = [
  'function latestEpoch() view returns (uint64)',
  'function latestFinalEpoch() view returns (uint64)',
  'function challengeEndsAt(uint64 epoch) view returns (uint64)',
  'function vetoedAt(uint64 epoch) view returns (uint64)',
  'event RootVetoed(uint64 indexed epoch, string reason, address indexed guardian)',
  'function epochs(uint64 epoch) view returns ((bytes32 root, uint256 totalWork, uint256 reward, uint256 reinvested, uint64 publishedAt, bytes32 bundleHash))',
  'function claimed(address account) view returns (uint256)',
  'function claim(address account, uint64 epoch, uint256 cumulativeWork, uint256 cumulativeReward, bytes32[] proof)',
  // Decoded when a claim sent from the member's own wallet reverts.
  'error UnknownEpoch(uint64 epoch)',
  'error InvalidProof(address account, uint64 epoch)',
  'error NothingToClaim(address account, uint256 cumulativeReward, uint256 alreadyClaimed)',
  'error RootInChallenge(uint64 epoch, uint64 challengeEndsAt)',
  'error RootWasVetoed(uint64 epoch)',
] as const;

export const GOVERNOR_ABI = [
  'function proposalCount() view returns (uint256)',
  'function getProposal(uint256 proposalId) view returns ((address proposer, uint8 kind, uint64 epoch, uint64 voteEnd, bool executed, bytes32 parameter, uint256 value, uint256 quorumWork, uint256 forWork, uint256 againstWork, uint256 abstainWork))',
  'function state(uint256 proposalId) view returns (uint8)',
  'function executionWindow() view returns (uint64)',
  'function hasVoted(uint256 proposalId, address voter) view returns (bool)',
  'function nonces(address owner) view returns (uint256)',
  'function parameters(bytes32 parameter) view returns (uint256)',
  'event ProposalCreated(uint256 indexed proposalId, address indexed proposer, uint8 kind, uint64 indexed epoch, bytes32 parameter, uint256 value, uint64 voteEnd, uint256 quorumWork, string description)',
] as const;

export const TREASURY_ABI = [
  'function balance() view returns (uint256)',
  'event Paid(uint256 indexed proposalId, address indexed recipient, uint256 amount, uint8 category)',
] as const;

/** The distributor's event whose reinvested amounts are the treasury's inflows. */
export const ROOT_PUBLISHED_EVENT = 'event RootPublished(uint64 indexed epoch, bytes32 root, uint256 totalWork, uint256 reward, uint256 reinvested, bytes32 bundleHash)';

export const TOKEN_ABI = ['function balanceOf(address account) view returns (uint256)'] as const;
