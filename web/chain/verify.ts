// The member's check that the pool committed their work: fetch the leaf and proof from the gateway,
// read the root from the chain, and verify the proof here. The gateway's own copy of the root is
// never used for the verdict, so a gateway that lies about a leaf is caught by this page.
import { ZeroHash } from 'ethers';
import type { ProofResponse } from '../../protocol/api.js';
import { verifyRewardProof } from '../../protocol/dao/index.js';
import type { DaoReader } from './dao-reader.js';
import { isPublished } from './dao-reader.js';
import { fetchProof } from './gateway-api.js';

export interface ProofCheck {
  /** The latest epoch published on-chain (0 before the first). */
  epoch: number;
  verified: boolean;
  /** Why not verified (or a note when there is nothing to verify yet). */
  reason?: string;
  /** The root read from the chain for `epoch`. */
  onChainRoot?: string;
  /** The gateway's leaf and proof, when it has one for the member. */
  leaf?: ProofResponse;
  checkedAtMs: number;
}

/**
 * Verifies `account`'s leaf in the latest epoch the chain has a root for. Work committed on-chain
 * means work in a published root, so the epoch comes from the chain, not from the gateway (whose
 * newest epoch may still be on its way).
 */
export async function verifyLatestProof(reader: DaoReader, account: string, nowMs = Date.now()): Promise<ProofCheck> {
  return verifyProof(reader, account, await reader.latestEpoch(), nowMs);
}

/** Verifies `account`'s leaf in `epoch` against the root the chain holds for it. */
export async function verifyProof(reader: DaoReader, account: string, epoch: number, nowMs = Date.now()): Promise<ProofCheck> {
  if (epoch === 0) return { epoch, verified: false, reason: 'no epoch has been published on-chain yet', checkedAtMs: nowMs };
  const [onChain, leaf] = await Promise.all([reader.epochRoot(epoch), fetchProof(epoch, account)]);
  const base = { epoch, onChainRoot: onChain.root, checkedAtMs: nowMs };
  if (!isPublished(onChain)) return { ...base, verified: false, reason: `epoch ${epoch} has no root on-chain` };
  if (!leaf) return { ...base, verified: false, reason: `epoch ${epoch} holds no work of this address (work counts from the epoch after it was mined)` };
  if (leaf.account.toLowerCase() !== account.toLowerCase()) {
    return { ...base, leaf, verified: false, reason: `the pool sent the record of ${leaf.account}, not of this address` };
  }
  if (leaf.epoch !== epoch) return { ...base, leaf, verified: false, reason: `the pool sent a record of epoch ${leaf.epoch}, not ${epoch}` };
  const verified = verifyRewardProof(onChain.root, { account, cumulativeWork: leaf.cumulativeWork, cumulativeReward: leaf.cumulativeReward, proof: leaf.proof });
  if (verified) return { ...base, leaf, verified };
  const reason =
    leaf.root.toLowerCase() !== onChain.root.toLowerCase()
      ? `the pool's root for epoch ${epoch} (${leaf.root}) is not the root on-chain`
      : `the proof does not lead to the on-chain root of epoch ${epoch}`;
  return { ...base, leaf, verified, reason };
}

/**
 * Whether a check of `epoch` can be reused while the chain's latest epoch stays `epoch`: a
 * published root never changes and neither does the gateway's leaf under it, so a verified leaf
 * (or a missing one) stays so. A failed verification is not final: the next poll asks again.
 */
export function isFinal(check: ProofCheck): boolean {
  const published = check.onChainRoot !== undefined && check.onChainRoot !== ZeroHash;
  return published && (check.verified || check.leaf === undefined);
}
