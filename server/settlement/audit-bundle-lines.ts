// An epoch's audit bundle (protocol/dao/audit-bundle.ts) read from the ledger (SQLite or
// PostgreSQL, through an AuditSource), a page at a time: a big epoch is never held in memory, and
// the event loop turns between pages. Everything comes from committed rows of a closed epoch, which
// never change, so the same epoch always gives the same bytes (and the same hash) however often and
// by whichever gateway process it is read.
import { createHash } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import {
  AUDIT_FORMAT,
  encodeBundleLine,
  type AuditJob,
  type BundleShare,
  type ShareProof,
} from '../../protocol/dao/audit-bundle.js';
import { leafAt, leafCountOf } from '../../protocol/dao/compact-leaves.js';
import type { EpochRecord } from './settlement-store.js';

/** Shares read per query. */
const SHARES_PER_PAGE = 2_000;
/** Lines made between turns of the event loop: a share acknowledgement never waits behind more. */
const LINES_PER_TURN = 500;

export interface ShareRow {
  id: number;
  member: string;
  difficulty: number;
  work: number;
  hash: string;
  proof: string | null;
}

/** A share recorded before proofs were kept: listed with empty proof fields, which no job matches. */
const NO_PROOF: ShareProof = { job: '', extranonce1: '', extranonce2: '', ntime: 0, nonce: 0, versionBits: null, versionMask: 0 };

/** Where a bundle's rows come from; each store implements it over its own tables. */
export interface AuditSource {
  /**
   * The compact leaves of `epoch` (the previous epoch's, for the bundle), as stored: in chunks, in
   * order. Not joined: copying a million members' 84 MB in one go would hold up the event loop.
   */
  previousLeaves(epoch: number): Promise<Uint8Array[]>;
  /** Up to `limit` of the epoch's changed leaves after account `afterMember`, in account byte order. */
  members(epoch: number, afterMember: string, limit: number): Promise<{ member: string; epoch_work: string; epoch_reward: string }[]>;
  /** Up to `limit` of the epoch's shares with id above `afterId`, in id order. */
  shares(epoch: EpochRecord, afterId: number, limit: number): Promise<ShareRow[]>;
  /** A job's data (JSON of an AuditJob), undefined when it was never recorded. */
  job(key: string): Promise<string | undefined>;
}

/** The bundle's lines, each with its newline, of the closed epoch `row`. */
export async function* auditBundleLines(source: AuditSource, row: EpochRecord): AsyncGenerator<string> {
  const previous = row.epoch > 1 ? await source.previousLeaves(row.epoch - 1) : [];
  const leafCount = previous.reduce((sum, chunk) => sum + leafCountOf(chunk), 0);
  yield encodeBundleLine({
    type: 'header',
    format: AUDIT_FORMAT,
    epoch: row.epoch,
    reward: (row.reward + row.reinvested).toString(),
    reinvestmentBps: row.reinvestmentBps,
    root: row.root,
    epochWork: row.epochWork.toString(),
    totalWork: row.totalWork.toString(),
    membersReward: row.reward.toString(),
    reinvested: row.reinvested.toString(),
    previousLeaves: leafCount,
  });
  let line = 0;
  for (const chunk of previous) {
    for (let i = 0, n = leafCountOf(chunk); i < n; i++) {
      // Lower case: checksumming a million accounts would cost a keccak each, and the case carries nothing.
      const leaf = leafAt(chunk, i, false);
      yield encodeBundleLine({ type: 'leaf', account: leaf.account, cumulativeWork: leaf.cumulativeWork.toString(), cumulativeReward: leaf.cumulativeReward.toString() });
      if (++line % LINES_PER_TURN === 0) await yieldToEventLoop();
    }
  }
  let members = 0;
  for (let after = ''; ; ) {
    const page = await source.members(row.epoch, after, LINES_PER_TURN);
    if (page.length === 0) break;
    for (const m of page) yield encodeBundleLine({ type: 'member', member: m.member, epochWork: m.epoch_work, epochReward: m.epoch_reward });
    members += page.length;
    after = page[page.length - 1]!.member;
    await yieldToEventLoop();
  }

  const jobsSent = new Set<string>();
  let jobs = 0;
  let shares = 0;
  for (let after = 0; ; ) {
    const page = await source.shares(row, after, SHARES_PER_PAGE);
    if (page.length === 0) break;
    for (const share of page) {
      const proof = share.proof === null ? NO_PROOF : (JSON.parse(share.proof) as ShareProof);
      if (proof.job !== '' && !jobsSent.has(proof.job)) {
        jobsSent.add(proof.job);
        const data = await source.job(proof.job);
        // A job whose row is missing is not listed: its shares then fail the audit, as they should.
        if (data !== undefined) {
          yield encodeBundleLine({ type: 'job', key: proof.job, ...(JSON.parse(data) as AuditJob) });
          jobs++;
        }
      }
      const line: BundleShare = { type: 'share', id: share.id, member: share.member, difficulty: share.difficulty, work: share.work, hash: share.hash, ...proof };
      yield encodeBundleLine(line);
      shares++;
    }
    after = page[page.length - 1]!.id;
    await yieldToEventLoop();
  }
  yield encodeBundleLine({ type: 'trailer', leaves: leafCount, members, jobs, shares });
}

/** sha256 of the bundle's bytes, as published on-chain (node's native sha256: the same digest as BundleHasher, several times faster). */
export async function hashBundle(lines: AsyncIterable<string>): Promise<string> {
  const hash = createHash('sha256');
  for await (const line of lines) hash.update(line, 'utf8');
  return `0x${hash.digest('hex')}`;
}
