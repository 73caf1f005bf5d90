// The seeded random source of the fuzz tests (the Stratum fuzzer, the DAO contracts' invariants):
// a failing case is reproduced from its seed.

/** sfc32: tiny, fast, and the same sequence on every platform for a given seed. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(...seeds: number[]) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = 1;
    // Every seed word is mixed in, so (seed, stream, index) gives independent streams.
    for (const s of seeds) {
      this.d = (this.d ^ (s >>> 0)) >>> 0;
      for (let i = 0; i < 12; i++) this.u32();
    }
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** In [0, 1). */
  float(): number {
    return this.u32() / 2 ** 32;
  }

  /** In [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** In [lo, hi], both included. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from nothing');
    return items[this.int(items.length)]!;
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
}

/** FUZZ_SEED as decimal or 0x-hex; a fresh random seed when unset (printed, so it can be replayed). */
export function seedFrom(text: string | undefined): number {
  if (text !== undefined && text.trim() !== '') {
    const n = Number(text.trim());
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`FUZZ_SEED must be a 32-bit unsigned integer, got "${text}"`);
    return n;
  }
  return Math.floor(Math.random() * 2 ** 32) >>> 0;
}
