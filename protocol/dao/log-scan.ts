// Reads a contract's logs from its deployment block to the chain's head in chunks of blocks
// (public RPCs refuse wide eth_getLogs ranges), remembering how far it got: each call reads only
// the blocks that are new since the last one, and a failure midway keeps what was read.

/** Blocks per eth_getLogs call: public RPCs refuse wide ranges. */
export const LOG_CHUNK_BLOCKS = 10_000;

export class ChunkedLogScan {
  /** The last block whose logs were handed to a reader. */
  private scannedTo: number;

  constructor(
    deployBlock: number,
    private readonly chunkBlocks = LOG_CHUNK_BLOCKS,
  ) {
    if (!Number.isSafeInteger(chunkBlocks) || chunkBlocks < 1) throw new RangeError(`chunkBlocks must be a positive integer, got ${chunkBlocks}`);
    this.scannedTo = deployBlock - 1;
  }

  /** Calls `read` for each chunk [from, to] of the blocks after the last scan, up to `headBlock`. */
  async scanTo(headBlock: number, read: (fromBlock: number, toBlock: number) => Promise<void>): Promise<void> {
    for (let from = this.scannedTo + 1; from <= headBlock; from += this.chunkBlocks) {
      const to = Math.min(headBlock, from + this.chunkBlocks - 1);
      await read(from, to);
      // Advanced chunk by chunk, so a failure midway keeps what was read.
      this.scannedTo = to;
    }
  }
}
