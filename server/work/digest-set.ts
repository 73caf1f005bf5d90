/**
 * A set of 256-bit digests (64 hex digits, such as a share's block hash), kept in typed arrays that
 * are recycled from one set to the next.
 *
 * The gateway remembers every share hash of the live templates to refuse duplicates: at 5,000
 * shares/s a template collects 150,000 of them in its 30 s. Two things kept this from being cheap:
 * - As strings in a Set each entry was a heap object that outlived the young generation: megabytes a
 *   second promoted into the old generation, full collections, stalled answers.
 * - As whole digests in one table that doubles, each template made ~35 MB of ArrayBuffers (its table
 *   and the ones it outgrew) that only a full collection frees; V8 counts them, and every ~64 MB
 *   of them forced a full collection (a 0.2-0.4 s stall at 20,000 connections, README "Load").
 *
 * So an entry is the digest's least significant 64 bits (the display hex's last 16 digits: a share
 * hash's leading digits are zeros, its last ones are uniformly spread), and tables come from a
 * shared pool: a set returns its outgrown tables when it rehashes and all of them when it is
 * released (JobManager releases a template's set when the template expires), and the next set
 * grows into them. In steady state nothing is allocated.
 *
 * 64 bits are enough: two different shares agree on them with probability 2^-64 per pair, so among
 * the 150,000 of a template the chance that an honest share is refused as a duplicate is about
 * 10^-9, and the ledger's unique share key still stands behind the set. Open addressing with linear
 * probing; deleted slots are tombstones until the next rehash.
 */
import { hexDigitValue } from '../../protocol/hex.js';

const DIGEST_HEX_DIGITS = 64;
/** The fingerprint: two 32-bit words, most significant first. */
const WORDS = 2;
const EMPTY = 0;
const FULL = 1;
const DELETED = 2;
/** Rehash when live entries and tombstones fill this share of the slots. */
const MAX_LOAD = 0.5;
const MIN_CAPACITY = 16;

interface Tables {
  words: Uint32Array;
  state: Uint8Array;
}

/**
 * Tables by capacity, waiting to be reused. A few of each size: the live templates' sets grow
 * through the same sizes one after another, so a deeper pool would only hold memory.
 */
const POOL_DEPTH = 2;
const pool = new Map<number, Tables[]>();
let tablesAllocated = 0;

function takeTables(capacity: number): Tables {
  const reused = pool.get(capacity)?.pop();
  if (reused) {
    reused.state.fill(EMPTY);
    return reused;
  }
  tablesAllocated++;
  return { words: new Uint32Array(capacity * WORDS), state: new Uint8Array(capacity) };
}

function giveTables(tables: Tables): void {
  const capacity = tables.state.length;
  let free = pool.get(capacity);
  if (!free) pool.set(capacity, (free = []));
  if (free.length < POOL_DEPTH) free.push(tables);
}

/** How many tables were ever allocated rather than reused (for tests and benchmarks). */
export function digestTablesAllocated(): number {
  return tablesAllocated;
}

export class DigestSet {
  private capacity: number;
  private tables: Tables;
  private live = 0;
  private tombstones = 0;
  /** The fingerprint being looked up, parsed once per call. */
  private hi = 0;
  private lo = 0;

  constructor(initialCapacity = 1024) {
    this.capacity = powerOfTwoAtLeast(Math.max(MIN_CAPACITY, initialCapacity));
    this.tables = takeTables(this.capacity);
  }

  get size(): number {
    return this.live;
  }

  has(hex: string): boolean {
    this.parse(hex);
    return this.find() >= 0;
  }

  /** Adds the digest; false when it was already there. */
  add(hex: string): boolean {
    this.parse(hex);
    if (this.capacity === 0) throw new Error('DigestSet: add after release');
    if (this.find() >= 0) return false;
    if (this.live + this.tombstones + 1 > this.capacity * MAX_LOAD) this.rehash(this.live + 1 > (this.capacity * MAX_LOAD) / 2 ? this.capacity * 2 : this.capacity);
    this.insert();
    return true;
  }

  /** Removes the digest; false when it was not there (or the set was released). */
  delete(hex: string): boolean {
    this.parse(hex);
    const slot = this.find();
    if (slot < 0) return false;
    this.tables.state[slot] = DELETED;
    this.live--;
    this.tombstones++;
    return true;
  }

  /**
   * Hands the tables back to the pool. The set is empty afterwards: has and delete answer false,
   * add throws. A share still waiting for its ledger write when its template expired may call
   * delete on a released set; that must not touch tables another set now uses.
   */
  release(): void {
    if (this.capacity === 0) return;
    giveTables(this.tables);
    this.tables = { words: new Uint32Array(0), state: new Uint8Array(0) };
    this.capacity = 0;
    this.live = 0;
    this.tombstones = 0;
  }

  /** The fingerprint's slot, or -1. Expects it parsed. */
  private find(): number {
    if (this.capacity === 0) return -1;
    const { words, state } = this.tables;
    const mask = this.capacity - 1;
    for (let slot = this.lo & mask; ; slot = (slot + 1) & mask) {
      const s = state[slot];
      if (s === EMPTY) return -1;
      if (s === FULL && words[slot * WORDS + 1] === this.lo && words[slot * WORDS] === this.hi) return slot;
    }
  }

  /** Stores the parsed fingerprint in the first free slot of its probe sequence (the caller checked it is absent). */
  private insert(): void {
    const { words, state } = this.tables;
    const mask = this.capacity - 1;
    let slot = this.lo & mask;
    while (state[slot] === FULL) slot = (slot + 1) & mask;
    if (state[slot] === DELETED) this.tombstones--;
    state[slot] = FULL;
    words[slot * WORDS] = this.hi;
    words[slot * WORDS + 1] = this.lo;
    this.live++;
  }

  /** Moves every live entry to tables of `capacity` slots; the parsed fingerprint is kept (add rehashes between parse and insert). */
  private rehash(capacity: number): void {
    const { hi, lo } = this;
    const old = this.tables;
    const oldCapacity = this.capacity;
    this.capacity = capacity;
    this.tables = takeTables(capacity);
    this.live = 0;
    this.tombstones = 0;
    for (let slot = 0; slot < oldCapacity; slot++) {
      if (old.state[slot] !== FULL) continue;
      this.hi = old.words[slot * WORDS]!;
      this.lo = old.words[slot * WORDS + 1]!;
      this.insert();
    }
    // Only now: `old` may be the same size as the new tables and so the next to be taken.
    giveTables(old);
    this.hi = hi;
    this.lo = lo;
  }

  /** Checks all 64 digits (a malformed hash is a bug upstream, not a share), keeps the last 16. */
  private parse(hex: string): void {
    if (hex.length !== DIGEST_HEX_DIGITS) throw new RangeError(`a digest is ${DIGEST_HEX_DIGITS} hex digits, got ${hex.length}`);
    let hi = 0;
    let lo = 0;
    for (let i = 0; i < DIGEST_HEX_DIGITS; i++) {
      const nibble = hexDigitValue(hex.charCodeAt(i));
      if (nibble < 0) throw new RangeError(`not a hex digit at ${i} of a digest: ${JSON.stringify(hex[i])}`);
      if (i >= 56) lo = ((lo << 4) | nibble) >>> 0;
      else if (i >= 48) hi = ((hi << 4) | nibble) >>> 0;
    }
    this.hi = hi;
    this.lo = lo;
  }
}

function powerOfTwoAtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
