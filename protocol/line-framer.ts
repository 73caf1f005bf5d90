/**
 * Stratum over TCP is newline-delimited JSON: this turns a stream of text chunks into whole lines.
 * Pure (no sockets), shared by the gateway's TCP transport, its upstream client and the miner's.
 */
export class LineFramer {
  private buffered = '';

  constructor(
    /** Longest line accepted; a longer one (complete or still arriving) is reported. */
    private readonly maxLineChars: number,
  ) {}

  /**
   * The complete, non-empty lines `chunk` finishes, trimmed, in order; `tooLong` when a line
   * passed the limit (the lines before it are still returned: the caller hangs up after them).
   */
  push(chunk: string): { lines: string[]; tooLong: boolean } {
    this.buffered += chunk;
    const lines: string[] = [];
    let newline: number;
    while ((newline = this.buffered.indexOf('\n')) !== -1) {
      const line = this.buffered.slice(0, newline).trim();
      this.buffered = this.buffered.slice(newline + 1);
      if (line.length > this.maxLineChars) return { lines, tooLong: true };
      if (line) lines.push(line);
    }
    return { lines, tooLong: this.buffered.length > this.maxLineChars };
  }
}
