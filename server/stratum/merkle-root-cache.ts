/**
 * One session's merkle roots, one per (job merkle key, extranonce2) it is working on (the key is
 * shared by jobs with the same coinbase parts and branch, see Job.merkleKey): a miner submits
 * many shares per extranonce2, and rebuilding the coinbase and folding it up the branch is most of
 * a share's hashing. Two slots: the current job, and the previous one while its grace-period
 * shares still arrive.
 *
 * The roots and extranonce2s live in one buffer made once per session, and the slots are reused:
 * an object per cached root, times 20,000 sessions, times a new job every half minute, was memory
 * that outlived the young generation and had to wait for a full collection (README "Load, faults
 * and hostile input").
 */
export class MerkleRootCache {
  private readonly keys: (object | undefined)[];
  /** Per slot: the 32-byte root, then the extranonce2 it was built with. */
  private readonly storage: Uint8Array;
  private readonly stride: number;
  private next = 0;

  constructor(
    private readonly extranonce2Size: number,
    private readonly slots = 2,
  ) {
    this.keys = new Array<object | undefined>(slots).fill(undefined);
    this.stride = 32 + extranonce2Size;
    this.storage = new Uint8Array(slots * this.stride);
  }

  /** The root for (key, extranonce2): kept, or made by `build` and kept in the oldest slot. */
  root(key: object, extranonce2: Uint8Array, build: () => Uint8Array): Uint8Array {
    if (extranonce2.length !== this.extranonce2Size) throw new RangeError(`extranonce2 is ${this.extranonce2Size} bytes here, got ${extranonce2.length}`);
    for (let slot = 0; slot < this.slots; slot++) {
      if (this.keys[slot] === key && this.holds(slot, extranonce2)) {
        const at = slot * this.stride;
        return this.storage.subarray(at, at + 32);
      }
    }
    const root = build();
    const slot = this.next;
    this.next = (slot + 1) % this.slots;
    this.keys[slot] = key;
    this.storage.set(root, slot * this.stride);
    this.storage.set(extranonce2, slot * this.stride + 32);
    return root;
  }

  private holds(slot: number, extranonce2: Uint8Array): boolean {
    const at = slot * this.stride + 32;
    for (let i = 0; i < extranonce2.length; i++) if (this.storage[at + i] !== extranonce2[i]) return false;
    return true;
  }
}
