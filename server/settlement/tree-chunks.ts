// How an epoch's compact leaves (protocol/dao/compact-leaves.ts, 84 bytes a leaf in account order)
// are kept in the ledger: table epoch_tree_chunks, one row per CHUNK_LEAVES leaves. Chunks rather
// than one value: each write is a small transaction (the share writer never waits long behind a
// close) and no single row reaches the databases' value limits at a million members.
import { LEAF_RECORD_BYTES, encodeLeaves, leafCountOf } from '../../protocol/dao/compact-leaves.js';

/** 16,384 leaves: 1.3 MiB a row. */
export const CHUNK_LEAVES = 16_384;
export const CHUNK_BYTES = CHUNK_LEAVES * LEAF_RECORD_BYTES;

/** The chunks of `leaves`, as views (no copy): chunk i holds leaves i * CHUNK_LEAVES onwards. */
export function splitIntoChunks(leaves: Uint8Array): Uint8Array[] {
  leafCountOf(leaves);
  const chunks: Uint8Array[] = [];
  for (let offset = 0; offset < leaves.length; offset += CHUNK_BYTES) chunks.push(leaves.subarray(offset, offset + CHUNK_BYTES));
  return chunks;
}

/**
 * An epoch's stored chunks (ordered by chunk number), checked whole: each a buffer of its own, so
 * they can be transferred to the tree worker, which joins them off the event loop.
 * Throws, naming the epoch, when a chunk is missing or cut.
 */
export function checkChunks(epoch: number, chunks: readonly { chunk: number; leaves: Uint8Array }[], leafCount: number): Uint8Array[] {
  let bytes = 0;
  for (const [i, { chunk, leaves }] of chunks.entries()) {
    if (chunk !== i || (i < chunks.length - 1 && leaves.length !== CHUNK_BYTES)) {
      throw new Error(`epoch ${epoch}: its stored tree chunks are not whole (chunk ${chunk} at position ${i}, ${leaves.length} bytes); the ledger's epoch_tree_chunks were altered or damaged`);
    }
    bytes += leaves.length;
  }
  if (bytes !== leafCount * LEAF_RECORD_BYTES) {
    throw new Error(`epoch ${epoch}: its stored tree chunks hold ${bytes} bytes, not the ${leafCount} leaves the epoch has; the ledger's epoch_tree_chunks were altered or damaged`);
  }
  // A driver may hand out views of a shared pool: those are copied, the rest move as they are.
  return chunks.map(({ leaves }) => (leaves.byteOffset === 0 && leaves.byteLength === leaves.buffer.byteLength ? leaves : leaves.slice()));
}

/** A Buffer over the same bytes (no copy): the database drivers bind only Buffers as BLOB/bytea. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * The chunks of an epoch stored before compact trees (one epoch_leaves row per member, with a
 * proof): what the migrations of both ledgers store for such an epoch, as Buffers.
 */
export function chunksOfLeafRows(rows: readonly { member: string; cumulative_work: string; cumulative_reward: string }[]): Buffer[] {
  const leaves = encodeLeaves(rows.map((r) => ({ account: r.member, cumulativeWork: BigInt(r.cumulative_work), cumulativeReward: BigInt(r.cumulative_reward) })));
  return splitIntoChunks(leaves).map(asBuffer);
}
