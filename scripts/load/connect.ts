// The connect phase: every miner logs in, at most `parallel` logins in progress at once, so the
// listen backlog and the gateway's accept loop are not swamped (20,000 SYNs at once would time
// out). A login that fails is counted as an error and the rest go on.
import type { LoadMiner } from './miner.js';
import type { Tally } from './tally.js';

export interface ConnectResult {
  connected: number;
  failed: number;
  seconds: number;
}

export async function connectMiners(
  miners: LoadMiner[],
  parallel: number,
  tally: Tally,
  signal: AbortSignal,
  /** Once a second while connecting. */
  progress: (connected: number, failed: number, seconds: number) => void,
): Promise<ConnectResult> {
  const began = performance.now();
  const seconds = () => (performance.now() - began) / 1000;
  let connected = 0;
  let failed = 0;
  let next = 0;
  const timer = setInterval(() => progress(connected, failed, seconds()), 1000);
  try {
    await Promise.all(
      Array.from({ length: Math.min(parallel, miners.length) }, async () => {
        while (next < miners.length && !signal.aborted) {
          const miner = miners[next++]!;
          try {
            await miner.connect();
            connected++;
          } catch (err) {
            failed++;
            miner.close();
            tally.error(`connect failed: ${(err as Error).message}`);
          }
        }
      }),
    );
  } finally {
    clearInterval(timer);
  }
  return { connected, failed, seconds: seconds() };
}
