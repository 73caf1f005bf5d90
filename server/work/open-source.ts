import { hexToBytes } from '../../protocol/hex.js';
import type { SourceConfig } from '../config.js';
import { createGbtSource, type WorkLogger } from './gbt-source.js';
import { createPracticeSource } from './practice-source.js';
import { createUpstreamSource } from './upstream-source.js';
import type { WorkSource } from './work-source.js';

/** The work source a configuration names. */
export function openWorkSource(config: SourceConfig, logger: WorkLogger): WorkSource {
  switch (config.kind) {
    case 'practice':
      return createPracticeSource({ networkDifficulty: config.networkDifficulty });
    case 'stratum':
      return createUpstreamSource({ url: config.url, logger, versionRolling: true });
    case 'gbt':
      return createGbtSource({ url: config.url, payoutScript: hexToBytes(config.payoutScriptHex, 'payout-script'), coinbaseTag: '/dao-gateway/', logger });
  }
}
