import { randomBytes } from 'node:crypto';
import { ExtranonceAllocator } from './extranonce.js';

/** How long a dropped session's extranonce1 waits for the miner to come back. */
export const RESUME_WINDOW_MS = 5 * 60_000;

export interface ExtranonceResumeOptions {
  /** The first byte of every prefix (server/stratum/extranonce.ts). */
  instanceId: number;
  /** How prefixes are handed out for a slot size (tests pin known-answer ones); else ExtranonceAllocator.forSlot. */
  allocatorFor?: (slotSize: number) => ExtranonceAllocator;
  resumeWindowMs?: number;
}

/**
 * The extranonce1 prefixes of the work source's current slot size, with resumption: a dropped
 * session's prefix is held for its subscription id for a while, so a miner that reconnects keeps
 * its work and its queued shares stay valid; after the window the prefix is handed out again.
 */
export class ExtranonceResume {
  private allocator: ExtranonceAllocator | undefined;
  private slot = 0;
  /** Prefixes of dropped sessions, by subscription id. */
  private readonly held = new Map<string, { prefix: Uint8Array; timer: NodeJS.Timeout }>();
  private readonly windowMs: number;

  constructor(private readonly options: ExtranonceResumeOptions) {
    this.windowMs = options.resumeWindowMs ?? RESUME_WINDOW_MS;
  }

  /** The extranonce slot size of the current templates (0 before the first). */
  get slotSize(): number {
    return this.slot;
  }

  /** How many bytes of the slot are the miner's (extranonce2). */
  get extranonce2Size(): number {
    if (!this.allocator) throw new Error('no work yet');
    return this.slot - this.allocator.prefixSize;
  }

  /**
   * A template's slot size. Returns true when it is a new one (the first template, or the upstream
   * changed its extranonce): prefixes then come from a fresh allocator, and held ones are dropped
   * (they no longer fit); live sessions need new prefixes (next()).
   */
  useSlotSize(slotSize: number): boolean {
    if (slotSize === this.slot) return false;
    this.allocator = this.options.allocatorFor?.(slotSize) ?? ExtranonceAllocator.forSlot(slotSize, this.options.instanceId);
    this.slot = slotSize;
    this.clearHeld();
    return true;
  }

  /** A fresh prefix; throws when this instance's partition is full. */
  next(): Uint8Array {
    if (!this.allocator) throw new Error('no work yet');
    return this.allocator.allocate();
  }

  /** A session's extranonce1: the one held for `resumeId` when there is one, else a fresh one. */
  allocate(resumeId?: string): { extranonce1: Uint8Array; extranonce2Size: number; subscriptionId: string } {
    if (!this.allocator) throw new Error('no work yet');
    const held = resumeId === undefined ? undefined : this.held.get(resumeId);
    if (held) {
      this.held.delete(resumeId!);
      clearTimeout(held.timer);
    }
    const extranonce1 = held && held.prefix.length === this.allocator.prefixSize ? held.prefix : this.allocator.allocate();
    return { extranonce1, extranonce2Size: this.extranonce2Size, subscriptionId: randomBytes(8).toString('hex') };
  }

  /** A session ended: its prefix waits `resumeWindowMs` for `subscriptionId`, then is handed out again. */
  hold(subscriptionId: string, prefix: Uint8Array | undefined): void {
    const owner = this.allocator;
    if (!prefix || !owner || prefix.length !== owner.prefixSize) return;
    const timer = setTimeout(() => {
      this.held.delete(subscriptionId);
      owner.release(prefix);
    }, this.windowMs);
    timer.unref();
    this.held.set(subscriptionId, { prefix, timer });
  }

  /** Stops the timers of held prefixes (shutdown). */
  close(): void {
    this.clearHeld();
  }

  private clearHeld(): void {
    for (const { timer } of this.held.values()) clearTimeout(timer);
    this.held.clear();
  }
}
