// A load miner's valid, distinct shares, as cheap as the share target allows.
//
// At a difficulty of 2.3e-10 or less the share target is clamped to 2^256 - 1, so every hash is a
// share: the miner only has to count nonces, and the gateway still does its whole check (merkle
// root, header, double SHA-256, target, duplicate, ledger). That is what the gateway started by
// the load generator is pinned at, so that 5,000 shares/s cost the generator next to nothing.
// At any other target (a running gateway that sets its own difficulty) the shares are found by
// the benchmark's ShareFactory, which hashes for them.
import { parseNotifyParams } from '../../protocol/stratum-job.js';
import { MAX_TARGET, type Target } from '../../protocol/target.js';
import { ShareFactory } from '../bench-gateway-shares.js';

/** The raw mining.notify params this needs: job_id at 0, ntime at 7, clean_jobs at 8. */
type NotifyParams = unknown[];

export class MinerShares {
  private readonly factory: ShareFactory;
  private target: Target;
  private params: NotifyParams | undefined;
  /** The factory has the current job (parsing a notify is skipped while counting). */
  private factoryCurrent = false;
  /** `["worker","job","extranonce2","ntime","` of the current job: a share is this, a nonce, `"]`. */
  private countingPrefix: string | undefined;
  private nextNonce = 0;

  constructor(
    private readonly worker: string,
    extranonce1: Uint8Array,
    /**
     * Counted shares all use the highest extranonce2 and the factory counts up from 0, so the two
     * never make the same (extranonce2, nonce): a refreshed job with the same template would
     * otherwise turn a repeat into a duplicate hash.
     */
    private readonly extranonce2Size: number,
    target: Target,
  ) {
    this.target = target;
    this.factory = new ShareFactory(worker, extranonce1, extranonce2Size, target);
  }

  /** True when the current target admits every hash. */
  get counting(): boolean {
    return this.target >= MAX_TARGET;
  }

  /** A new job from its mining.notify params; returns its clean_jobs flag. */
  setJob(params: NotifyParams): boolean {
    if (params.length < 9 || (typeof params[0] !== 'string' && typeof params[0] !== 'number') || typeof params[7] !== 'string') {
      throw new Error(`a mining.notify the load miner cannot use: ${JSON.stringify(params).slice(0, 120)}`);
    }
    this.params = params;
    this.countingPrefix = JSON.stringify([this.worker, String(params[0]), 'ff'.repeat(this.extranonce2Size), params[7]]).slice(0, -1) + ',"';
    this.factoryCurrent = false;
    if (!this.counting) this.useFactory();
    return params[8] === true;
  }

  setTarget(target: Target): void {
    this.target = target;
    this.factory.setTarget(target);
    if (!this.counting && this.params) {
      this.factoryCurrent = false;
      this.useFactory();
    }
  }

  /** Shares ready now (unbounded while counting). */
  get available(): number {
    if (this.counting) return this.countingPrefix ? Infinity : 0;
    return this.factory.available;
  }

  /** The params of one share, as JSON text, or undefined until a refill makes some. */
  take(): string | undefined {
    if (this.counting) {
      if (!this.countingPrefix) return undefined;
      if (this.nextNonce > 0xffffffff) throw new Error('the load miner used up its 2^32 nonces');
      return `${this.countingPrefix}${(this.nextNonce++).toString(16).padStart(8, '0')}"]`;
    }
    return this.factory.take();
  }

  /** Makes more shares (the factory hashes); false when there is nothing to make them from yet. */
  async refill(): Promise<boolean> {
    if (!this.params) return false;
    if (this.counting) return true;
    this.useFactory();
    await this.factory.refill();
    return true;
  }

  private useFactory(): void {
    if (this.factoryCurrent || !this.params) return;
    this.factory.setJob(parseNotifyParams(this.params));
    this.factoryCurrent = true;
  }
}
