import { bytesToHex, hexToBytes, hexToU32 } from '../../protocol/hex.js';
import { verifyShare } from '../../protocol/share.js';
import { parseNotifyParams, parseSubmitParams } from '../../protocol/stratum-job.js';
import { parseDifficulty } from '../../protocol/target.js';
import { fromOption, jsonOption, parseOptions, required } from '../args.js';

/** BIP320's general-purpose version bits: the mask pools grant most often. */
const DEFAULT_VERSION_MASK = '1fffe000';

/**
 * `dao-miner share --notify JSON --extranonce1 HEX --submit JSON [--version-mask HEX] [--difficulty D]`
 * The operator's share calculator: the same verifier the gateway runs, on a notify and a submit
 * pasted from the wire (the params arrays, or the whole JSON-RPC messages).
 */
export function shareCommand(argv: string[]): void {
  const opts = parseOptions(argv, {
    notify: { type: 'string' },
    extranonce1: { type: 'string' },
    submit: { type: 'string' },
    'version-mask': { type: 'string' },
    difficulty: { type: 'string' },
  });
  const job = fromOption('notify', () => parseNotifyParams(paramsOf(jsonOption(required(opts.notify, 'notify'), 'notify'))));
  const extranonce1 = fromOption('extranonce1', () => hexToBytes(required(opts.extranonce1, 'extranonce1'), 'extranonce1'));
  const submission = fromOption('submit', () => parseSubmitParams(paramsOf(jsonOption(required(opts.submit, 'submit'), 'submit'))));
  const versionMask = fromOption('version-mask', () => hexToU32(opts['version-mask'] ?? DEFAULT_VERSION_MASK, 'version-mask'));
  const difficulty = opts.difficulty ?? '1';
  fromOption('difficulty', () => parseDifficulty(difficulty));

  const share = fromOption('submit', () => verifyShare({ job, extranonce1, versionMask, difficulty }, submission));
  console.log(
    JSON.stringify({
      header: bytesToHex(share.header),
      hash: share.hash,
      shareDifficulty: share.shareDifficulty,
      meetsDifficulty: share.meetsDifficulty,
      meetsNetworkTarget: share.meetsNetworkTarget,
    }),
  );
}

/** Accepts a bare params array or a whole `{"method": ..., "params": [...]}` message. */
function paramsOf(message: unknown): unknown {
  if (message !== null && typeof message === 'object' && !Array.isArray(message) && 'params' in message) {
    return (message as { params: unknown }).params;
  }
  return message;
}
