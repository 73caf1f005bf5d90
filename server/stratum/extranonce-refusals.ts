import type { Logger } from 'pino';
import { StratumCode, StratumError } from '../../protocol/stratum/errors.js';
import { ExtranonceExhaustedError } from './extranonce.js';
import type { ExtranonceResume } from './extranonce-resume.js';

/** What the miner is told when every extranonce1 of this gateway is in use. */
export const POOL_FULL_MESSAGE = 'pool full: no extranonce space, try again later';
/** At most one "pool full" log line this often; the metric counts every refusal. */
export const POOL_FULL_LOG_INTERVAL_MS = 60_000;

export interface RefusalParts {
  extranonces: ExtranonceResume;
  log: Logger;
  /** Called once per refused subscribe (the prom-client counter). */
  onRefusal(): void;
  now?: () => number;
}

/**
 * A subscribe's extranonce1, or a Stratum refusal the miner can act on: "pool full" when the
 * partition is exhausted (counted, and logged once per interval with how many were refused since),
 * "no work yet" before the first template. Never an "internal error".
 */
export function extranonceAllocation(parts: RefusalParts): ExtranonceResume['allocate'] {
  const now = parts.now ?? Date.now;
  let lastLogMs = -Infinity;
  let refusedSinceLog = 0;
  return (resumeId) => {
    if (parts.extranonces.slotSize === 0) throw new StratumError(StratumCode.OTHER, 'no work yet: the work source has sent no template, try again later');
    try {
      return parts.extranonces.allocate(resumeId);
    } catch (err) {
      if (!(err instanceof ExtranonceExhaustedError)) throw err;
      parts.onRefusal();
      refusedSinceLog++;
      if (now() - lastLogMs >= POOL_FULL_LOG_INTERVAL_MS) {
        parts.log.warn({ ...parts.extranonces.usage, refused: refusedSinceLog, reason: err.message }, 'pool full: subscribe refused, no extranonce1 left');
        lastLogMs = now();
        refusedSinceLog = 0;
      }
      throw new StratumError(StratumCode.OTHER, POOL_FULL_MESSAGE);
    }
  };
}
