/**
 * Hands each session a unique extranonce1: a prefix of the template's extranonce slot. The rest
 * of the slot is the miner's extranonce2, so no two sessions can ever hash the same coinbase.
 *
 * Several gateways may share one upstream (and one ledger): the first byte of every prefix IS the
 * gateway's instance id, and an allocator hands out only prefixes of its own partition. Two
 * gateways with distinct instance ids therefore never give out the same extranonce1, which keeps
 * both their coinbases and their share keys (which include the extranonce) apart.
 */

/** How a slot of `slotSize` bytes is split (extranonceLayout). */
export interface ExtranonceLayout {
  /** extranonce1: the instance byte and the session bytes. */
  prefixSize: number;
  /** Sessions one instance can serve at once: 256^(prefixSize - 1). */
  capacity: number;
  /** What the miner rolls. */
  extranonce2Size: number;
}

/**
 * The split of a slot: the prefix leaves the miner 2 bytes, but grows to 3 bytes (65,536 sessions
 * per instance) while that still leaves the miner 1 byte, and never past 4 bytes. A relaying
 * gateway whose upstream gives 4 bytes thus serves 65,536 sessions instead of 256: one byte of
 * extranonce2 is 256 coinbases per job, and browsers (which roll ntime and nonce and get a new job
 * every refresh) and native miners (which roll the version) never run out of it.
 *
 *   slot 2 -> prefix 1 (the instance byte alone): 1 session,   extranonce2 1
 *   slot 3 -> prefix 2:                          256,          extranonce2 1
 *   slot 4 -> prefix 3:                          65,536,       extranonce2 1
 *   slot 5 -> prefix 3:                          65,536,       extranonce2 2
 *   slot 6 -> prefix 4:                          16,777,216,   extranonce2 2
 *   slot 8 -> prefix 4:                          16,777,216,   extranonce2 4
 *
 * `minExtranonce2Size` (--miner-extranonce2-bytes) gives the miner more at the cost of sessions:
 * cgminer and the firmwares built on it (bmminer, sgminer) refuse an extranonce2 under 2 bytes, so
 * a gateway serving them on a 4-byte upstream slot needs 2 (and then serves 256 sessions).
 */
export function extranonceLayout(slotSize: number, minExtranonce2Size = 1): ExtranonceLayout {
  if (!Number.isInteger(slotSize) || slotSize < 1 + minExtranonce2Size) {
    throw new RangeError(`the work source's extranonce slot (${slotSize} bytes) is too small to split (the instance byte and ${minExtranonce2Size} for the miner)`);
  }
  const prefixSize = Math.min(4, Math.max(slotSize - 2, Math.min(3, slotSize - 1)), slotSize - minExtranonce2Size);
  return { prefixSize, capacity: 2 ** (8 * (prefixSize - 1)), extranonce2Size: slotSize - prefixSize };
}

/** Every prefix of the partition is in use: the pool is full until a session ends. */
export class ExtranonceExhaustedError extends Error {
  override readonly name = 'ExtranonceExhaustedError';
}

export class ExtranonceAllocator {
  private readonly inUse = new Set<number>();
  /** The partition is [base, base + size): every value whose top byte is the instance id. */
  private readonly base: number;
  private readonly size: number;
  /** Offset in the partition where the next search starts. */
  private next: number;

  constructor(
    readonly prefixSize: number,
    /** Instance id (0..255): the first byte of every prefix this allocator hands out. */
    readonly instanceId = 0,
  ) {
    if (!Number.isInteger(prefixSize) || prefixSize < 1 || prefixSize > 4) throw new RangeError(`prefixSize must be 1..4, got ${prefixSize}`);
    if (!Number.isInteger(instanceId) || instanceId < 0 || instanceId > 255) throw new RangeError(`instanceId must be 0..255, got ${instanceId}`);
    this.size = 2 ** (8 * (prefixSize - 1));
    this.base = instanceId * this.size;
    // A random start: a restarted gateway does not hand out the very prefixes of its last run first.
    this.next = Math.floor(Math.random() * this.size);
  }

  /** The allocator for a slot of `slotSize` bytes, split as extranonceLayout says. */
  static forSlot(slotSize: number, instanceId = 0, minExtranonce2Size = 1): ExtranonceAllocator {
    return new ExtranonceAllocator(extranonceLayout(slotSize, minExtranonce2Size).prefixSize, instanceId);
  }

  /** How many prefixes this instance may hand out at once. */
  get capacity(): number {
    return this.size;
  }

  get allocated(): number {
    return this.inUse.size;
  }

  get full(): boolean {
    return this.inUse.size >= this.size;
  }

  allocate(): Uint8Array {
    if (this.full) {
      const first = this.instanceId.toString(16).padStart(2, '0');
      throw new ExtranonceExhaustedError(
        `every extranonce1 of instance ${this.instanceId} is in use: all ${this.size} prefix(es) of ${this.prefixSize} byte(s) ` +
          `starting with 0x${first}; the partition of another instance is never used (a work source with a larger extranonce slot gives more)`,
      );
    }
    while (this.inUse.has(this.base + this.next)) this.next = (this.next + 1) % this.size;
    const value = this.base + this.next;
    this.inUse.add(value);
    this.next = (this.next + 1) % this.size;
    const prefix = new Uint8Array(this.prefixSize);
    for (let i = 0; i < this.prefixSize; i++) prefix[i] = Math.floor(value / 256 ** (this.prefixSize - 1 - i)) % 256;
    return prefix;
  }

  /** Frees a prefix for reuse; one this allocator did not hand out (another size, another instance) is ignored. */
  release(prefix: Uint8Array): void {
    if (prefix.length !== this.prefixSize) return;
    let value = 0;
    for (const b of prefix) value = value * 256 + b;
    this.inUse.delete(value);
  }
}
