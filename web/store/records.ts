// Pure checks for the share and accrual records before they are stored. The browser's record is
// only worth comparing with the pool's if it holds what was really sent, so a malformed record is
// refused here (an Error naming the field) instead of being stored and miscounted later. Only the
// known fields are copied: whatever else the caller's object carries stays out of the database.
import type { AccrualSnapshot, NewShare, ShareRow, ShareStatus } from './schema.js';

/** The pool's answer to a share. */
export interface ShareAnswer {
  status: Exclude<ShareStatus, 'pending'>;
  /** The pool's error text, for a rejected share. */
  reason?: string;
  /** Display-order block hash of the share. */
  hash?: string;
  answeredAtMs: number;
}

function text(name: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new Error(`share ${name} must be a non-empty string`);
  return value;
}

function hex(name: string, value: unknown): string {
  if (typeof value !== 'string' || !/^[0-9a-fA-F]+$/.test(value)) throw new Error(`share ${name} must be hex digits, got ${JSON.stringify(value)}`);
  return value.toLowerCase();
}

function number(what: string, value: unknown, { positive = false } = {}): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (positive && value === 0)) {
    throw new Error(`${what} must be a finite ${positive ? 'positive' : 'non-negative'} number, got ${JSON.stringify(value) ?? String(value)}`);
  }
  return value;
}

/** The row for a share just sent: status pending, no id yet (the store assigns it). */
export function newShareRow(share: NewShare): Omit<ShareRow, 'id'> {
  const row: Omit<ShareRow, 'id'> = {
    poolUrl: text('poolUrl', share.poolUrl),
    jobId: text('jobId', share.jobId),
    extranonce2: hex('extranonce2', share.extranonce2),
    nonce: hex('nonce', share.nonce),
    ntime: hex('ntime', share.ntime),
    difficulty: number('share difficulty', share.difficulty, { positive: true }),
    submittedAtMs: number('share submittedAtMs', share.submittedAtMs),
    status: 'pending',
  };
  if (share.versionBits !== undefined) row.versionBits = hex('versionBits', share.versionBits);
  if (share.member !== undefined) row.member = text('member', share.member);
  return row;
}

/** The fields a settled share gains. */
export function shareAnswer(answer: ShareAnswer): Pick<ShareRow, 'status' | 'reason' | 'hash' | 'answeredAtMs'> {
  if (answer.status !== 'accepted' && answer.status !== 'rejected') {
    throw new Error(`a share is settled as accepted or rejected, got ${JSON.stringify(answer.status)}`);
  }
  const settled: Pick<ShareRow, 'status' | 'reason' | 'hash' | 'answeredAtMs'> = {
    status: answer.status,
    answeredAtMs: number('answeredAtMs', answer.answeredAtMs),
  };
  if (answer.reason !== undefined) settled.reason = String(answer.reason);
  if (answer.hash !== undefined) settled.hash = hex('hash', answer.hash);
  return settled;
}

/** A snapshot of the gateway's figures (work in expected hashes). */
export function accrualSnapshot(snapshot: AccrualSnapshot): AccrualSnapshot {
  return {
    atMs: number('accrual atMs', snapshot.atMs),
    work: number('accrual work', snapshot.work),
    shares: number('accrual shares', snapshot.shares),
    hashesPerSecond: number('accrual hashesPerSecond', snapshot.hashesPerSecond),
  };
}
