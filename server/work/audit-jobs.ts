// What the ledger keeps so an epoch's audit bundle can re-verify every share (protocol/dao/audit-bundle.ts):
// each issued job once, and with each share the few bytes that rebuild its header from that job.
import type { Logger } from 'pino';
import type { ShareProof } from '../../protocol/dao/audit-bundle.js';
import { bytesToHex } from '../../protocol/hex.js';
import type { ShareSubmission } from '../../protocol/stratum-job.js';
import type { Ledger } from '../ledger/ledger.js';
import { auditJobOf, type Job } from './job-manager.js';

/**
 * Queues the job's row. Not awaited by the broadcast: a job is sent to miners at once, and its row
 * is in the ledger's queue ahead of every share mined on it. A failure is logged, not fatal: the
 * shares are still credited, and the epoch's bundle names the job it lacks.
 */
export function recordAuditJob(ledger: Ledger, job: Job, log: Logger): void {
  const data = JSON.stringify(auditJobOf(job.template));
  ledger.recordJob({ key: job.auditKey, data, createdAtMs: job.createdAtMs }).catch((err: unknown) => {
    log.warn({ err, job: job.id }, 'ledger: job not recorded; its shares will be unverifiable in the audit bundle');
  });
}

/** The share's ShareProof as the ledger stores it (JSON text). */
export function shareProofText(jobKey: string, extranonce1: Uint8Array, submission: ShareSubmission, versionMask: number): string {
  const proof: ShareProof = {
    job: jobKey,
    extranonce1: bytesToHex(extranonce1),
    extranonce2: bytesToHex(submission.extranonce2),
    ntime: submission.ntime,
    nonce: submission.nonce,
    versionBits: submission.versionBits ?? null,
    versionMask,
  };
  return JSON.stringify(proof);
}
