// Recomputes an epoch from its audit bundle (protocol/dao/audit-bundle.ts): every share's proof of
// work with the one share verifier, each member's work, the reward split, the cumulative leaves
// and the root, with the same code the gateway settles with. Reads the bundle as a stream of bytes
// and hashes exactly those bytes; returns every difference found, not just the first.
import {
  AUDIT_FORMAT,
  BundleFormatError,
  BundleHasher,
  auditJobKey,
  parseBundleLine,
  reverifyShare,
  stratumJobOf,
  type BundleHeader,
  type BundleMember,
  type BundleTrailer,
} from '../protocol/dao/audit-bundle.js';
import { checksumAddress } from '../protocol/dao/address.js';
import { encodeLeaves } from '../protocol/dao/compact-leaves.js';
import { buildRewardTreeNodes } from '../protocol/dao/reward-tree-builder.js';
import type { RewardLeaf } from '../protocol/dao/reward-tree.js';
import type { StratumJob } from '../protocol/stratum-job.js';
import { difficultyToWork } from '../protocol/target.js';
import { mergeEpoch } from '../server/settlement/epoch-merge.js';

/** How far a member's credited work may be from the exact sum of its shares: the database sums in floating point before rounding. */
export const WORK_TOLERANCE_HASHES = 1n;

export interface EpochAudit {
  epoch: number;
  /** sha256 of the bytes read, 0x-prefixed. */
  bundleHash: string;
  header: BundleHeader;
  shares: number;
  /** The root recomputed from the bundle. */
  root: string;
  /** Every disagreement, in the order found; empty when the bundle recomputes to what it claims. */
  differences: string[];
}

/** The bundle is not a whole, well-formed bundle (truncated, not NDJSON, lines out of order). */
export class BadBundleError extends Error {
  override readonly name = 'BadBundleError';
}

/** Splits a byte stream into lines, hashing every byte on the way. */
async function* linesOf(chunks: AsyncIterable<Uint8Array>, hasher: BundleHasher): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let pending = '';
  for await (const chunk of chunks) {
    hasher.updateBytes(chunk);
    pending += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = pending.indexOf('\n')) >= 0) {
      yield pending.slice(0, end);
      pending = pending.slice(end + 1);
    }
  }
  pending += decoder.decode();
  if (pending !== '') throw new BadBundleError('the bundle is truncated: its last line has no newline');
}

interface MemberTally {
  /** The member's valid share work summed in bundle order, as the ledger sums it (floating point). */
  work: number;
  shares: number;
}

export async function auditEpochBundle(chunks: AsyncIterable<Uint8Array>): Promise<EpochAudit> {
  const hasher = new BundleHasher();
  const differences: string[] = [];
  let header: BundleHeader | undefined;
  let trailer: BundleTrailer | undefined;
  const leaves: RewardLeaf[] = [];
  const members = new Map<string, BundleMember>();
  const jobs = new Map<string, StratumJob>();
  const tally = new Map<string, MemberTally>();
  let shares = 0;
  let lineNumber = 0;
  try {
    for await (const text of linesOf(chunks, hasher)) {
      lineNumber++;
      const line = parseBundleLine(text, lineNumber);
      if (trailer) throw new BadBundleError(`line ${lineNumber} follows the trailer`);
      if (lineNumber === 1) {
        if (line.type !== 'header' || line.format !== AUDIT_FORMAT) throw new BadBundleError(`line 1 is not a ${AUDIT_FORMAT} header`);
        header = line;
        continue;
      }
      switch (line.type) {
        case 'header':
          throw new BadBundleError(`line ${lineNumber}: a second header`);
        case 'leaf':
          leaves.push({ account: line.account, cumulativeWork: BigInt(line.cumulativeWork), cumulativeReward: BigInt(line.cumulativeReward) });
          break;
        case 'member':
          members.set(checksumAddress(line.member), line);
          break;
        case 'job': {
          const { type: _type, key, ...job } = line;
          if (auditJobKey(job) !== key) differences.push(`job ${key}: its data hashes to ${auditJobKey(job)}, not to its key`);
          jobs.set(key, stratumJobOf(job));
          break;
        }
        case 'share': {
          shares++;
          const where = `share ${line.id} (${line.member})`;
          const job = jobs.get(line.job);
          const member = checksumAddress(line.member);
          const t = tally.get(member) ?? { work: 0, shares: 0 };
          tally.set(member, t);
          t.shares++;
          if (!job) {
            differences.push(`${where}: its job ${line.job || '(none recorded)'} is not in the bundle: its proof of work cannot be checked`);
            continue;
          }
          const verified = reverifyShare(job, line);
          if (verified.hash !== line.hash) differences.push(`${where}: the header hashes to ${verified.hash}, not to the recorded ${line.hash}`);
          if (!verified.meetsDifficulty) differences.push(`${where}: hash ${verified.hash} does not meet difficulty ${line.difficulty} (it is worth ${verified.shareDifficulty.toPrecision(6)})`);
          if (line.work !== difficultyToWork(line.difficulty)) differences.push(`${where}: credited ${line.work} work, but difficulty ${line.difficulty} is worth ${difficultyToWork(line.difficulty)}`);
          // Credited at the claimed difficulty only when the proof holds.
          if (verified.hash === line.hash && verified.meetsDifficulty) t.work += difficultyToWork(line.difficulty);
          break;
        }
        case 'trailer':
          trailer = line;
          break;
      }
    }
  } catch (err) {
    if (err instanceof BundleFormatError) throw new BadBundleError(err.message);
    if (err instanceof TypeError && /decode|encoded/i.test(err.message)) throw new BadBundleError('the bundle is not UTF-8 text');
    throw err;
  }
  if (!header) throw new BadBundleError('the bundle is empty');
  if (!trailer) throw new BadBundleError(`the bundle is truncated: no trailer after ${lineNumber} lines`);
  const counted = { leaves: leaves.length, members: members.size, jobs: jobs.size, shares };
  for (const [name, n] of Object.entries(counted)) {
    const stated = trailer[name as keyof typeof counted];
    if (stated !== n) differences.push(`trailer: ${stated} ${name} stated, ${n} in the bundle`);
  }
  if (header.previousLeaves !== leaves.length) differences.push(`header: ${header.previousLeaves} previous leaves stated, ${leaves.length} in the bundle`);

  // Each member's credited work against its shares, both ways.
  for (const [member, t] of tally) {
    const credited = members.get(member);
    const exact = BigInt(Math.round(t.work));
    const claimed = credited ? BigInt(credited.epochWork) : 0n;
    const gap = claimed - exact;
    if (gap > WORK_TOLERANCE_HASHES || -gap > WORK_TOLERANCE_HASHES) {
      differences.push(`member ${member}: credited ${claimed} work, but its ${t.shares} valid shares sum to ${exact} (${gap > 0n ? '+' : ''}${gap})`);
    }
  }
  for (const member of members.keys()) if (!tally.has(member)) differences.push(`member ${member}: credited ${members.get(member)!.epochWork} work with no share in the bundle`);

  // The split, the cumulative leaves and the root, with the gateway's own merge and tree code.
  const merged = mergeEpoch({
    previous: encodeLeaves(leaves),
    members: [...members.keys()],
    work: [...members.values()].map((m) => Number(m.epochWork)),
    reward: BigInt(header.reward),
    reinvestmentBps: header.reinvestmentBps,
  });
  let root = '';
  if (!merged) differences.push('the bundle credits no work: it cannot produce a root');
  else {
    for (const leaf of merged.changed) {
      const stated = members.get(leaf.member);
      if (stated && BigInt(stated.epochReward) !== leaf.epochReward) differences.push(`member ${leaf.member}: stated reward ${stated.epochReward}, the split gives ${leaf.epochReward}`);
    }
    const compare = (name: string, stated: string, computed: bigint) => {
      if (BigInt(stated) !== computed) differences.push(`${name}: stated ${stated}, recomputed ${computed}`);
    };
    compare('epoch work', header.epochWork, merged.epochWork);
    compare('members reward', header.membersReward, merged.reward);
    compare('reinvested', header.reinvested, merged.reinvested);
    const tree = await buildRewardTreeNodes(merged.leaves);
    root = tree.root;
    compare('total work', header.totalWork, tree.totalWork);
    if (root !== header.root) differences.push(`root: the bundle states ${header.root}, its data gives ${root}`);
  }
  return { epoch: header.epoch, bundleHash: hasher.digest(), header, shares, root, differences };
}
