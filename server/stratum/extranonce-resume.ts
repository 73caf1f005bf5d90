import { randomBytes } from 'node:crypto';
import { ExtranonceAllocator, ExtranonceExhaustedError } from './extranonce.js';

/** How long a dropped session's extranonce1 waits for the miner to come back. */
export const RESUME_WINDOW_MS = 5 * 60_000;
/** How many dropped sessions of one address keep their extranonce1 for a resume. */
export const RESUME_HOLDS_PER_IP = 8;

export interface ExtranonceResumeOptions {
  /** The first byte of every prefix (server/stratum/extranonce.ts). */
  instanceId: number;
  /** How prefixes are handed out for a slot size (tests pin known-answer ones); else ExtranonceAllocator.forSlot. */
  allocatorFor?: (slotSize: number) => ExtranonceAllocator;
  resumeWindowMs?: number;
  /** Held prefixes per address; beyond it the address's oldest is released. */
  holdsPerIp?: number;
  /** The least extranonce2 a miner is given (extranonceLayout); 1 unless set. */
  minExtranonce2Size?: number;
  /** Addresses with no per-address cap (known farms and proxies: many miners behind one address). */
  uncapped?: (ip: string) => boolean;
}

interface Held {
  prefix: Uint8Array;
  ip: string;
  timer: NodeJS.Timeout;
}

/**
 * The extranonce1 prefixes of the work source's current slot size, with resumption: a dropped
 * session's prefix is held for its subscription id for a while, so a miner that reconnects keeps
 * its work and its queued shares stay valid; after the window the prefix is handed out again.
 *
 * Held prefixes cannot crowd out live miners: each address keeps at most `holdsPerIp` of them
 * (its oldest goes first), and when the partition is full the oldest held prefix of any address
 * is given to the new session before anyone is refused.
 */
export class ExtranonceResume {
  private allocator: ExtranonceAllocator | undefined;
  private slot = 0;
  /** Prefixes of dropped sessions, by subscription id, oldest first (a Map keeps insertion order). */
  private readonly held = new Map<string, Held>();
  /** Subscription ids held per address, oldest first. */
  private readonly heldByIp = new Map<string, string[]>();
  private readonly windowMs: number;
  private readonly holdsPerIp: number;

  constructor(private readonly options: ExtranonceResumeOptions) {
    this.windowMs = options.resumeWindowMs ?? RESUME_WINDOW_MS;
    this.holdsPerIp = options.holdsPerIp ?? RESUME_HOLDS_PER_IP;
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

  /** For the gauges: sessions this instance can serve at once, prefixes in use (live or held), and held. */
  get usage(): { capacity: number; inUse: number; held: number } {
    return { capacity: this.allocator?.capacity ?? 0, inUse: this.allocator?.allocated ?? 0, held: this.held.size };
  }

  /**
   * A template's slot size. Returns true when it is a new one (the first template, or the upstream
   * changed its extranonce): prefixes then come from a fresh allocator, and held ones are dropped
   * (they no longer fit); live sessions need new prefixes (next()).
   */
  useSlotSize(slotSize: number): boolean {
    if (slotSize === this.slot) return false;
    this.allocator = this.options.allocatorFor?.(slotSize) ?? ExtranonceAllocator.forSlot(slotSize, this.options.instanceId, this.options.minExtranonce2Size);
    this.slot = slotSize;
    this.clearHeld();
    return true;
  }

  /** A fresh prefix; throws ExtranonceExhaustedError when the partition is full even of held ones. */
  next(): Uint8Array {
    if (!this.allocator) throw new Error('no work yet');
    const allocator = this.allocator;
    // Held prefixes yield to live miners, oldest first.
    while (allocator.full && this.held.size > 0) this.drop(this.held.keys().next().value!, true);
    return allocator.allocate();
  }

  /** A session's extranonce1: the one held for `resumeId` when there is one, else a fresh one. */
  allocate(resumeId?: string): { extranonce1: Uint8Array; extranonce2Size: number; subscriptionId: string } {
    if (!this.allocator) throw new Error('no work yet');
    const held = resumeId === undefined ? undefined : this.held.get(resumeId);
    if (held) this.drop(resumeId!, false);
    const extranonce1 = held && held.prefix.length === this.allocator.prefixSize ? held.prefix : this.next();
    return { extranonce1, extranonce2Size: this.extranonce2Size, subscriptionId: randomBytes(8).toString('hex') };
  }

  /** A session from `ip` ended: its prefix waits `resumeWindowMs` for `subscriptionId`, then is handed out again. */
  hold(subscriptionId: string, prefix: Uint8Array | undefined, ip = ''): void {
    const owner = this.allocator;
    if (!prefix || !owner || prefix.length !== owner.prefixSize) return;
    if (this.held.has(subscriptionId)) this.drop(subscriptionId, true);
    const timer = setTimeout(() => this.drop(subscriptionId, true), this.windowMs);
    timer.unref();
    this.held.set(subscriptionId, { prefix, ip, timer });
    const ofIp = this.heldByIp.get(ip) ?? [];
    ofIp.push(subscriptionId);
    this.heldByIp.set(ip, ofIp);
    if (this.options.uncapped?.(ip)) return;
    while (ofIp.length > this.holdsPerIp) this.drop(ofIp[0]!, true);
  }

  /** Stops the timers of held prefixes (shutdown). */
  close(): void {
    this.clearHeld();
  }

  /** Forgets a held prefix; `release` gives it back to the allocator (else its session resumes it). */
  private drop(subscriptionId: string, release: boolean): void {
    const held = this.held.get(subscriptionId);
    if (!held) return;
    clearTimeout(held.timer);
    this.held.delete(subscriptionId);
    const ofIp = this.heldByIp.get(held.ip);
    if (ofIp) {
      const at = ofIp.indexOf(subscriptionId);
      if (at >= 0) ofIp.splice(at, 1);
      if (ofIp.length === 0) this.heldByIp.delete(held.ip);
    }
    if (release) this.allocator?.release(held.prefix);
  }

  private clearHeld(): void {
    for (const { timer } of this.held.values()) clearTimeout(timer);
    this.held.clear();
    this.heldByIp.clear();
  }
}

export { ExtranonceExhaustedError };
