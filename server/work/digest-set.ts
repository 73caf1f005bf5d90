/**
 * A set of 256-bit digests (64 hex digits, such as a share's block hash), kept in one typed array.
 *
 * The gateway remembers every share hash of the live templates to refuse duplicates: at 5,000
 * shares/s that is 300,000 entries a minute. As strings in a Set each entry is a heap object that
 * outlives the young generation, so the set alone promoted megabytes a second into the old
 * generation and brought on full garbage collections that stalled every miner's answers. Here an
 * entry is 8 words in an ArrayBuffer the collector never walks, and a lookup allocates nothing.
 *
 * Open addressing with linear probing; deleted slots are tombstones until the next rehash.
 */
import { hexDigitValue } from '../../protocol/hex.js';

const WORDS = 8;
const EMPTY = 0;
const FULL = 1;
const DELETED = 2;
/** Rehash when live entries and tombstones fill this share of the slots. */
const MAX_LOAD = 0.5;

export class DigestSet {
  private capacity: number;
  private words: Uint32Array;
  private state: Uint8Array;
  private live = 0;
  private tombstones = 0;
  /** The digest being looked up, parsed once per call. */
  private readonly key = new Uint32Array(WORDS);

  constructor(initialCapacity = 1024) {
    this.capacity = powerOfTwoAtLeast(Math.max(16, initialCapacity));
    this.words = new Uint32Array(this.capacity * WORDS);
    this.state = new Uint8Array(this.capacity);
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
    if (this.find() >= 0) return false;
    if ((this.live + this.tombstones + 1) > this.capacity * MAX_LOAD) this.rehash(this.live + 1 > (this.capacity * MAX_LOAD) / 2 ? this.capacity * 2 : this.capacity);
    this.insertKey();
    return true;
  }

  /** Removes the digest; false when it was not there. */
  delete(hex: string): boolean {
    this.parse(hex);
    const slot = this.find();
    if (slot < 0) return false;
    this.state[slot] = DELETED;
    this.live--;
    this.tombstones++;
    return true;
  }

  /** The digest's slot, or -1. Expects `key` parsed. */
  private find(): number {
    const mask = this.capacity - 1;
    for (let slot = this.bucket(); ; slot = (slot + 1) & mask) {
      const state = this.state[slot];
      if (state === EMPTY) return -1;
      if (state === FULL && this.matches(slot)) return slot;
    }
  }

  /** Stores `key` in the first free slot of its probe sequence (the caller checked it is absent). */
  private insertKey(): void {
    const mask = this.capacity - 1;
    let slot = this.bucket();
    while (this.state[slot] === FULL) slot = (slot + 1) & mask;
    if (this.state[slot] === DELETED) this.tombstones--;
    this.state[slot] = FULL;
    this.words.set(this.key, slot * WORDS);
    this.live++;
  }

  /**
   * The last word: the digest's least significant bits in display order. A share hash is small
   * (its leading digits are zeros), so its first words are not spread, but its last ones are.
   */
  private bucket(): number {
    return this.key[WORDS - 1]! & (this.capacity - 1);
  }

  private matches(slot: number): boolean {
    const base = slot * WORDS;
    for (let i = WORDS - 1; i >= 0; i--) if (this.words[base + i] !== this.key[i]) return false;
    return true;
  }

  /** Moves every live entry to a table of `capacity` slots; `key` is kept (an add rehashes between parse and insert). */
  private rehash(capacity: number): void {
    const pending = this.key.slice();
    const oldWords = this.words;
    const oldState = this.state;
    const oldCapacity = this.capacity;
    this.capacity = capacity;
    this.words = new Uint32Array(capacity * WORDS);
    this.state = new Uint8Array(capacity);
    this.live = 0;
    this.tombstones = 0;
    for (let slot = 0; slot < oldCapacity; slot++) {
      if (oldState[slot] !== FULL) continue;
      this.key.set(oldWords.subarray(slot * WORDS, slot * WORDS + WORDS));
      this.insertKey();
    }
    this.key.set(pending);
  }

  private parse(hex: string): void {
    if (hex.length !== WORDS * 8) throw new RangeError(`a digest is ${WORDS * 8} hex digits, got ${hex.length}`);
    for (let w = 0; w < WORDS; w++) {
      let value = 0;
      for (let i = w * 8; i < w * 8 + 8; i++) {
        const nibble = hexDigitValue(hex.charCodeAt(i));
        if (nibble < 0) throw new RangeError(`not a hex digit at ${i} of a digest: ${JSON.stringify(hex[i])}`);
        value = (value << 4) | nibble;
      }
      this.key[w] = value;
    }
  }
}

function powerOfTwoAtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
