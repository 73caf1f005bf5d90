// What watches a fuzz run besides the replies: two honest miners mining throughout (their
// latencies and rejections), the gateway's warnings and errors, and this process's uncaught errors.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino, type Logger } from 'pino';
import { MEMBER, MEMBER_2 } from './gateway.js';
import { TestMiner } from './test-miner.js';

/** Two honest miners (TCP and WebSocket, 127.0.0.1) submitting shares throughout. */
export class HonestMiners {
  readonly latenciesMs: number[] = [];
  readonly rejected: string[] = [];
  accepted = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;

  private constructor(readonly miners: { miner: TestMiner; worker: string }[]) {}

  static async start(gateway: { stratumPort: number; httpUrl: string }): Promise<HonestMiners> {
    const tcp = await TestMiner.tcp(gateway.stratumPort);
    await tcp.login(`${MEMBER}.honest-tcp`);
    const ws = await TestMiner.ws(gateway.httpUrl);
    await ws.login(`${MEMBER_2}.honest-ws`);
    const h = new HonestMiners([
      { miner: tcp, worker: `${MEMBER}.honest-tcp` },
      { miner: ws, worker: `${MEMBER_2}.honest-ws` },
    ]);
    h.loop = h.run();
    return h;
  }

  private async run(): Promise<void> {
    try {
      await this.mine();
    } catch (err) {
      this.rejected.push(`the honest miners stopped: ${(err as Error).stack}`);
    }
  }

  private async mine(): Promise<void> {
    let n = 0;
    while (!this.stopped) {
      // One at a time: the miners share one WASM engine.
      for (const { miner, worker } of this.miners) {
        if (this.stopped || miner.closed) break;
        const share = await miner.findShare({ worker, extranonce2: (n++ % 2 ** 32).toString(16).padStart(8, '0') });
        const began = performance.now();
        try {
          const r = await miner.submit(share.params);
          this.latenciesMs.push(performance.now() - began);
          if (r.result === true) this.accepted++;
          else this.rejected.push(`${worker}: ${JSON.stringify(r.error)}`);
        } catch (err) {
          this.rejected.push(`${worker}: ${(err as Error).message}`);
        }
      }
      await sleep(40);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  close(): void {
    for (const { miner } of this.miners) miner.close();
  }
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

export interface LogEntry {
  level: number;
  msg?: string;
  err?: { message?: string; stack?: string };
}

/** A pino logger that keeps warnings and errors in memory (bounded), for the oracle to read. */
export function capturingLogger(): { logger: Logger; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const logger = pino(
    { level: 'warn', base: undefined },
    {
      write(line: string) {
        if (entries.length < 5_000) entries.push(JSON.parse(line) as LogEntry);
      },
    },
  );
  return { logger, entries };
}

/** Uncaught exceptions and unhandled rejections in this process fail the run instead of ending it. */
export function watchProcess(): { errors: string[]; stop(): void } {
  const errors: string[] = [];
  const onError = (err: unknown) => errors.push(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return {
    errors,
    stop() {
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
    },
  };
}
