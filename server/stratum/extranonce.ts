/**
 * Hands each session a unique extranonce1: a prefix of the template's extranonce slot. The rest
 * of the slot is the miner's extranonce2, so no two sessions can ever hash the same coinbase.
 */
export class ExtranonceAllocator {
  private readonly inUse = new Set<number>();
  private next: number;
  private readonly space: number;

  constructor(
    readonly prefixSize: number,
    /** Instance id (several gateways share one upstream): the top byte of every prefix. */
    instanceId = 0,
  ) {
    if (!Number.isInteger(prefixSize) || prefixSize < 1 || prefixSize > 4) throw new RangeError(`prefixSize must be 1..4, got ${prefixSize}`);
    this.space = 2 ** (8 * prefixSize);
    this.next = (instanceId * Math.floor(this.space / 256) + Math.floor(Math.random() * 256)) % this.space;
  }

  /** The extranonce slot of `slotSize` bytes leaves the miner slotSize - prefix bytes (at least 2). */
  static forSlot(slotSize: number, instanceId = 0): ExtranonceAllocator {
    if (slotSize < 3) throw new RangeError(`the work source's extranonce slot (${slotSize} bytes) is too small to split`);
    return new ExtranonceAllocator(Math.min(4, slotSize - 2), instanceId);
  }

  allocate(): Uint8Array {
    if (this.inUse.size >= this.space) throw new Error('every extranonce1 is in use');
    while (this.inUse.has(this.next)) this.next = (this.next + 1) % this.space;
    const value = this.next;
    this.inUse.add(value);
    this.next = (this.next + 1) % this.space;
    const prefix = new Uint8Array(this.prefixSize);
    for (let i = 0; i < this.prefixSize; i++) prefix[i] = (value >>> (8 * (this.prefixSize - 1 - i))) & 0xff;
    return prefix;
  }

  release(prefix: Uint8Array): void {
    let value = 0;
    for (const b of prefix) value = value * 256 + b;
    this.inUse.delete(value);
  }
}
