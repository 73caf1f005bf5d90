import { sha256d } from '../../protocol/sha256.js';
import { buildCoinbaseParts } from '../../protocol/coinbase.js';
import type { ForwardedShare, SubmitOutcome, WorkSource, WorkTemplate } from '../../server/work/work-source.js';

/** A work source the test drives: each `emit` is a new template, clean (new block) or not. */
export class ManualSource implements WorkSource {
  readonly kind = 'practice' as const;
  readonly label = 'manual test source (no real coin is mined)';
  connected = true;
  readonly submitted: ForwardedShare[] = [];
  private listeners: ((t: WorkTemplate) => void)[] = [];
  private height = 100;
  private prevhash = sha256d(Uint8Array.of(1));
  private ntime = Math.floor(Date.now() / 1000);

  onTemplate(listener: (t: WorkTemplate) => void): void {
    this.listeners.push(listener);
  }
  async start(): Promise<void> {
    this.emit(true);
  }
  async stop(): Promise<void> {}
  async submit(share: ForwardedShare): Promise<SubmitOutcome> {
    this.submitted.push(share);
    return { accepted: true };
  }

  emit(clean: boolean): void {
    if (clean) {
      this.height++;
      this.prevhash = sha256d(this.prevhash);
    }
    this.ntime++;
    const { coinb1, coinb2 } = buildCoinbaseParts({ height: this.height, valueSats: 1n, payoutScript: Uint8Array.of(0x51), extranonceSize: 8 });
    const template: WorkTemplate = { prevhash: this.prevhash, coinb1, coinb2, extranonceSize: 8, merkleBranch: [], version: 0x20000000, bits: 0x1d00ffff, ntime: this.ntime, height: this.height, cleanJobs: clean };
    for (const l of this.listeners) l(template);
  }
}
