import { hexToBytes } from '../../protocol/hex.js';
import { merkleBranchForCoinbase } from '../../protocol/merkle.js';
import { sha256d } from '../../protocol/sha256.js';
import { bitsToTarget, difficultyToTarget, hashValue, targetToBits, type Difficulty } from '../../protocol/target.js';
import { buildCoinbaseParts } from '../../protocol/coinbase.js';
import type { ForwardedShare, SubmitOutcome, WorkSource, WorkTemplate } from './work-source.js';

export interface PracticeSourceOptions {
  /** The practice chain's network difficulty: low, so a browser finds a practice block now and then. */
  networkDifficulty?: Difficulty;
  /** A new practice block (clean jobs) this often even when nobody finds one. */
  blockIntervalMs?: number;
  /** A fresh ntime (a non-clean job) this often. */
  refreshIntervalMs?: number;
  extranonceSize?: number;
}

/** OP_RETURN "DAO practice: no real coin": the practice coinbase pays nobody, visibly. */
const PRACTICE_PAYOUT = hexToBytes('6a' + '1a' + Buffer.from('DAO practice: no real coin').toString('hex'), 'payout');
const PRACTICE_TAG = new TextEncoder().encode('/dao-practice/');
/** A few made-up transactions, so that practice jobs carry a real merkle branch. */
const FAKE_TXIDS = [1, 2, 3].map((i) => sha256d(Uint8Array.of(i)));

/**
 * The embedded default work source: well-formed Bitcoin-style jobs on a made-up chain with a low
 * network target, so the whole system runs offline. Every label says that no real coin is mined.
 */
export function createPracticeSource(options: PracticeSourceOptions = {}): WorkSource {
  const bits = targetToBits(difficultyToTarget(options.networkDifficulty ?? 1));
  const blockIntervalMs = options.blockIntervalMs ?? 10 * 60_000;
  const refreshIntervalMs = options.refreshIntervalMs ?? 30_000;
  const extranonceSize = options.extranonceSize ?? 8;
  const branch = merkleBranchForCoinbase(FAKE_TXIDS);
  const listeners: ((t: WorkTemplate) => void)[] = [];
  let height = 1;
  let prevhash = sha256d(new TextEncoder().encode(`dao practice chain ${Date.now()}`));
  let current: WorkTemplate | undefined;
  let blockTimer: NodeJS.Timeout | undefined;
  let refreshTimer: NodeJS.Timeout | undefined;

  function emit(cleanJobs: boolean): void {
    const { coinb1, coinb2 } = buildCoinbaseParts({ height, valueSats: 312_500_000n, payoutScript: PRACTICE_PAYOUT, extranonceSize, tag: PRACTICE_TAG });
    current = {
      prevhash,
      coinb1,
      coinb2,
      extranonceSize,
      merkleBranch: branch,
      version: 0x20000000,
      bits,
      ntime: Math.floor(Date.now() / 1000),
      height,
      cleanJobs,
    };
    for (const listener of listeners) listener(current);
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => emit(false), refreshIntervalMs).unref();
  }

  function nextBlock(foundHashInternal?: Uint8Array): void {
    prevhash = foundHashInternal ?? sha256d(prevhash);
    height += 1;
    emit(true);
    clearTimeout(blockTimer);
    blockTimer = setTimeout(() => nextBlock(), blockIntervalMs).unref();
  }

  return {
    kind: 'practice',
    label: 'practice chain (no real coin is mined)',
    connected: true,
    onTemplate(listener) {
      listeners.push(listener);
    },
    async start() {
      emit(true);
      blockTimer = setTimeout(() => nextBlock(), blockIntervalMs).unref();
    },
    async stop() {
      clearTimeout(blockTimer);
      clearTimeout(refreshTimer);
    },
    async submit(share: ForwardedShare): Promise<SubmitOutcome> {
      const raw = sha256d(share.header);
      if (hashValue(raw) > bitsToTarget(bits)) return { accepted: false, reason: 'below network target' };
      if (share.template !== current && share.template.prevhash !== prevhash) return { accepted: false, reason: 'stale block' };
      // The practice chain grows on the block found, as a real one would.
      setImmediate(() => nextBlock(raw));
      return { accepted: true };
    },
  };
}

