import type { Logger } from 'pino';
import type { JobManager } from '../work/job-manager.js';
import type { WorkSource, WorkTemplate } from '../work/work-source.js';
import type { ExtranonceResume } from './extranonce-resume.js';
import type { StratumHub } from './hub.js';

export interface TemplateRolloutParts {
  extranonces: ExtranonceResume;
  hub: StratumHub;
  jobs: JobManager;
  /** The version bits miners may roll now (it follows the upstream's mask). */
  versionRollingMask(): number;
  log: Logger;
}

/**
 * Feeds the work source's templates to the job manager. A template that changes what live
 * sessions were told (the extranonce slot size, the rollable version bits) first brings every
 * session up to date, so none mines on a split of the coinbase that no longer exists.
 */
export function followTemplates(source: WorkSource, parts: TemplateRolloutParts): void {
  let versionMask = parts.versionRollingMask();
  const accept = (template: WorkTemplate): void => {
    if (parts.extranonces.useSlotSize(template.extranonceSize)) {
      logLayout(parts);
      moveSessions(parts);
    }
    const mask = parts.versionRollingMask();
    if (mask !== versionMask) {
      versionMask = mask;
      for (const session of parts.hub.sessions.values()) session.updateVersionMask();
    }
    parts.jobs.accept(template);
  };
  source.onTemplate((template) => {
    try {
      accept(template);
    } catch (err) {
      parts.log.error({ err }, 'work source sent an unusable template');
    }
  });
}

/** What the new slot size gives: sessions at once and the miner's extranonce2 (few sessions is a warning). */
function logLayout({ extranonces, log }: TemplateRolloutParts): void {
  const { capacity } = extranonces.usage;
  const layout = { slotBytes: extranonces.slotSize, sessions: capacity, extranonce2Bytes: extranonces.extranonce2Size };
  if (capacity < 256) log.warn(layout, `the work source's extranonce slot leaves room for only ${capacity} session(s) at once`);
  // A node or the practice source gives 8 bytes, room for everyone: only an upstream's slot is news.
  else if (extranonces.slotSize < 8) log.info(layout, 'extranonce layout');
  else log.debug(layout, 'extranonce layout');
}

/** Every subscribed session gets a prefix of the new slot size, or is asked to reconnect. */
function moveSessions({ extranonces, hub, log }: TemplateRolloutParts): void {
  for (const session of hub.sessions.values()) {
    if (!session.extranonce) continue;
    let prefix: Uint8Array;
    try {
      prefix = extranonces.next();
    } catch (err) {
      // This instance's partition is full: the miner reconnects later rather than share another's.
      log.warn({ err, session: session.connection.id }, 'no extranonce1 left for a session; asking it to reconnect');
      session.reconnect(1);
      continue;
    }
    if (!session.changeExtranonce(prefix, extranonces.extranonce2Size)) session.reconnect(1);
  }
}
