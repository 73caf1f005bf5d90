import type { Logger } from 'pino';
import type { Ledger } from '../ledger/ledger.js';
import type { Metrics } from '../metrics.js';
import type { ForwardCandidate } from '../stratum/session-context.js';
import type { Job } from './job-manager.js';
import type { WorkSource } from './work-source.js';

export interface ShareForwarderParts {
  source: WorkSource;
  ledger: Ledger;
  metrics: Metrics;
  log: Logger;
}

/**
 * Sends the work source what it asked for: every block, and (upstream pools) every share that
 * meets the template's forward target; the ledger records each block and each upstream verdict.
 * Returns the session context's forward(): it answers at once, the submission runs on its own.
 */
export function shareForwarder({ source, ledger, metrics, log }: ShareForwarderParts): (job: Job, candidate: ForwardCandidate) => void {
  return (job, c) => {
    const template = job.template;
    const isBlock = c.isBlock;
    if (!isBlock && !(template.forwardTarget !== undefined && c.hashValue <= template.forwardTarget)) return;
    const version = new DataView(c.header.buffer, c.header.byteOffset, 80).getUint32(0, true);
    if (isBlock) log.info({ hash: c.hash, height: template.height, member: c.member }, 'share meets the network target: submitting block');
    const endTimer = metrics.upstreamSubmitSeconds.startTimer();
    source
      .submit({ template, extranonce: c.extranonce, ntime: c.ntime, nonce: c.nonce, version, header: c.header, hash: c.hash })
      .then(async (outcome) => {
        endTimer();
        const reason = outcome.reason ?? null;
        if (isBlock) {
          metrics.blocksFound.inc({ accepted: String(outcome.accepted) });
          await ledger.recordBlock({ hash: c.hash, height: template.height ?? null, member: c.member, jobId: job.id, foundAtMs: Date.now(), accepted: outcome.accepted, reason });
        }
        if (source.kind === 'stratum') {
          metrics.upstreamShares.inc({ accepted: String(outcome.accepted) });
          await ledger.recordUpstreamResult({ shareKey: c.hash, hash: c.hash, accepted: outcome.accepted, reason, atMs: Date.now() });
        }
        if (!outcome.accepted) log.warn({ hash: c.hash, reason }, 'forwarded share not accepted');
      })
      .catch((err: unknown) => log.error({ err, hash: c.hash }, 'forwarding a share failed'));
  };
}
