// Signs the member's EIP-712 requests and hands them to the gateway's relayer, so members need no
// gas: votes (Ballot), proposals (ProposalRequest) and claims (ClaimRequest). A local key signs with
// SigningKey over the TypedDataEncoder digest (ethers' Wallet would bring its keystore and mnemonic
// code into the bundle for nothing); an injected wallet (EIP-1193) signs in its own window, and can
// also send a claim transaction itself.
import { BrowserProvider, Contract, SigningKey, TypedDataEncoder, getAddress, keccak256, toUtf8Bytes, type Eip1193Provider, type TypedDataDomain } from 'ethers';
import {
  BALLOT_TYPES,
  CLAIM_REQUEST_TYPES,
  PROPOSAL_REQUEST_TYPES,
  governorDomain,
  relayDomain,
  type ProposalKind,
  type Types,
  type VoteSupport,
} from '../../protocol/dao/index.js';
import type { ProofResponse } from '../../protocol/api.js';
import type { MemberStore } from '../store/member-store.js';
import { DISTRIBUTOR_ABI } from './abi.js';
import type { ChainConfig } from './chain-config.js';
import type { DaoReader } from './dao-reader.js';
import { postClaim, postProposal, postVote, type RelayRecord } from './gateway-api.js';

export interface MemberSigner {
  readonly address: string;
  readonly source: 'local' | 'injected';
  signTypedData(domain: TypedDataDomain, types: Types, value: Record<string, unknown>): Promise<string>;
}

/** How long a signed claim request stays valid for the relayer. */
export const CLAIM_REQUEST_TTL_SECONDS = 15 * 60;

declare global {
  interface Window {
    ethereum?: Eip1193Provider;
  }
}

/** Signs with a private key held by this page. The signature is canonical (low s), as the contracts require. */
export function localSigner(address: string, privateKeyHex: string): MemberSigner {
  return {
    address: getAddress(address),
    source: 'local',
    async signTypedData(domain, types, value) {
      return new SigningKey(privateKeyHex).sign(TypedDataEncoder.hash(domain, types, value)).serialized;
    },
  };
}

/** Signs in the injected wallet (window.ethereum), which shows the typed data to the member first. */
export function injectedSigner(address: string): MemberSigner {
  return {
    address: getAddress(address),
    source: 'injected',
    async signTypedData(domain, types, value) {
      return (await walletSigner(address)).signTypedData(domain, types, value);
    },
  };
}

/**
 * The signer for the member's identity in `store`. The local key is read from IndexedDB for each
 * signature and not kept, so it stays no longer in this page's memory than one signing takes.
 */
export async function memberSigner(store: MemberStore): Promise<MemberSigner> {
  const identity = await store.getIdentity();
  if (!identity) throw new Error('this device has no member address yet: start contributing first');
  if (identity.source === 'injected') return injectedSigner(identity.address);
  return {
    address: identity.address,
    source: 'local',
    signTypedData: async (domain, types, value) => localSigner(identity.address, await store.exportIdentity()).signTypedData(domain, types, value),
  };
}

export interface SignedVote {
  proposalId: bigint;
  support: VoteSupport;
  voter: string;
  signature: string;
  relay: RelayRecord;
}

/** Signs a Ballot and queues it with the relayer (which adds the voter's leaf). */
export async function castVote(signer: MemberSigner, config: ChainConfig, proposalId: bigint, support: VoteSupport): Promise<SignedVote> {
  const ballot = { proposalId, support, voter: signer.address };
  const signature = await signer.signTypedData(governorDomain(config.chainId, config.governor), BALLOT_TYPES, ballot);
  const relay = await postVote({ ...ballot, signature });
  return { ...ballot, signature, relay };
}

/**
 * Signs a ClaimRequest for the latest published `epoch` and queues it: the relayer claims the
 * member's leaf of that epoch, paying the gas. The request is good for that epoch only.
 */
export async function requestClaim(signer: MemberSigner, config: ChainConfig, epoch: bigint, nowMs = Date.now()): Promise<RelayRecord> {
  const deadline = BigInt(Math.floor(nowMs / 1000) + CLAIM_REQUEST_TTL_SECONDS);
  const message = { account: signer.address, epoch, deadline };
  const signature = await signer.signTypedData(relayDomain(config.chainId, config.distributor), CLAIM_REQUEST_TYPES, message);
  return postClaim({ ...message, signature });
}

export interface ProposalDraft {
  kind: ProposalKind;
  /** A published epoch in which the proposer has a leaf: it fixes every voter's weight. */
  epoch: bigint;
  parameter: string;
  value: bigint;
  description: string;
}

/** Signs a ProposalRequest with the proposer's current nonce on the governor and queues it. */
export async function submitProposal(signer: MemberSigner, config: ChainConfig, reader: DaoReader, draft: ProposalDraft): Promise<RelayRecord> {
  const [nonce, latest] = await Promise.all([reader.nonce(signer.address), reader.latestFinalEpoch()]);
  // The governor pins a proposal to the latest final epoch only; signing for another would be refused.
  if (draft.epoch !== BigInt(latest)) {
    throw new Error(`the latest final epoch is ${latest}, not ${draft.epoch}: a proposal is pinned to the latest root past its challenge period; wait for epoch ${draft.epoch} to be final (or for the page to refresh), then propose again`);
  }
  const message = {
    proposer: signer.address,
    kind: draft.kind,
    epoch: draft.epoch,
    parameter: draft.parameter,
    value: draft.value,
    descriptionHash: keccak256(toUtf8Bytes(draft.description)),
    nonce,
  };
  const signature = await signer.signTypedData(governorDomain(config.chainId, config.governor), PROPOSAL_REQUEST_TYPES, message);
  return postProposal({ proposer: signer.address, kind: draft.kind, epoch: draft.epoch, parameter: draft.parameter, value: draft.value, description: draft.description, nonce, signature });
}

/** Claims from the member's own wallet, which pays the gas: no relayer involved. Resolves once mined. */
export async function claimFromWallet(config: ChainConfig, leaf: ProofResponse): Promise<string> {
  const signer = await walletSigner(leaf.account);
  const network = await signer.provider.getNetwork();
  if (Number(network.chainId) !== config.chainId) {
    throw new Error(`the wallet is on chain ${network.chainId}; switch it to chain ${config.chainId} to claim`);
  }
  const distributor = new Contract(config.distributor, DISTRIBUTOR_ABI, signer);
  const tx = await distributor.getFunction('claim')(leaf.account, leaf.epoch, leaf.cumulativeWork, leaf.cumulativeReward, leaf.proof);
  const receipt = await tx.wait();
  if (!receipt || receipt.status !== 1) throw new Error('the claim transaction failed');
  return receipt.hash as string;
}

async function walletSigner(address: string) {
  if (!window.ethereum) throw new Error('no wallet extension found in this browser');
  return new BrowserProvider(window.ethereum).getSigner(address);
}
