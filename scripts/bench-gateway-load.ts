// Part 2 of `npm run bench:gateway`: many WebSocket miners on loopback, each submitting valid,
// distinct shares as fast as the gateway acknowledges them, with a bounded number in flight so
// that the ack latency measured is the gateway's answer time, not an ever-growing queue.
import WebSocket from 'ws';
import { hexToBytes } from '../protocol/hex.js';
import { parseNotifyParams } from '../protocol/stratum-job.js';
import { difficultyToTarget } from '../protocol/target.js';
import { memberAddress } from './bench-gateway-session.js';
import { ShareFactory } from './bench-gateway-shares.js';

export interface LoadOptions {
  /** ws://127.0.0.1:PORT/stratum */
  url: string;
  connections: number;
  /** Shares each miner keeps in flight. */
  inFlight: number;
  /** The difficulty the gateway was pinned at: any other set_difficulty is reported. */
  difficulty: number;
}

export interface LoadWindow {
  seconds: number;
  accepted: number;
  rejected: Record<string, number>;
  /** Send-to-response times of the shares answered in the window, in ms. */
  latencyMs: { p50: number; p99: number; max: number };
}

interface Response {
  id?: number | null;
  method?: string;
  params?: unknown[];
  result?: unknown;
  error?: [number, string, unknown] | null;
}

/** What the whole run counts; the miners report into it. */
class Tally {
  counting = false;
  submitting = false;
  accepted = 0;
  rejected: Record<string, number> = {};
  latencies: number[] = [];
  warnings = new Set<string>();

  answer(sentAt: number, message: Response): void {
    if (!this.counting) return;
    this.latencies.push(performance.now() - sentAt);
    if (message.result === true) this.accepted++;
    else {
      const reason = message.error?.[1] ?? JSON.stringify(message);
      this.rejected[reason] = (this.rejected[reason] ?? 0) + 1;
    }
  }
}

class Miner {
  private ws!: WebSocket;
  private factory: ShareFactory | undefined;
  private nextId = 1;
  /** Submits in flight: id -> send time. */
  private readonly sent = new Map<number, number>();
  /** Login requests waiting for their response. */
  private readonly waiting = new Map<number, (m: Response) => void>();
  private refilling = false;
  private firstJob!: Promise<void>;
  private gotFirstJob!: () => void;

  constructor(
    private readonly index: number,
    private readonly options: LoadOptions,
    private readonly tally: Tally,
  ) {}

  /** Connects, subscribes, authorizes as 0x<member>.w<index>, and waits for the first job. */
  async open(): Promise<void> {
    this.ws = new WebSocket(this.options.url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
    });
    this.ws.on('error', (err) => this.tally.warnings.add(`miner socket error: ${err.message}`));
    this.ws.on('close', () => {
      if (this.tally.submitting) this.tally.warnings.add('a miner connection was closed during the run');
    });
    this.ws.on('message', (data) => this.receive(data.toString()));
    this.firstJob = new Promise((resolve) => (this.gotFirstJob = resolve));
    const subscribed = await this.request('mining.subscribe', ['bench-gateway/1.0']);
    const [, extranonce1, extranonce2Size] = subscribed.result as [unknown, string, number];
    const worker = `${memberAddress(this.index)}.w${this.index}`;
    this.factory = new ShareFactory(worker, hexToBytes(extranonce1, 'extranonce1'), extranonce2Size, difficultyToTarget(this.options.difficulty));
    const authorized = await this.request('mining.authorize', [worker, 'x']);
    if (authorized.result !== true) throw new Error(`authorize refused: ${JSON.stringify(authorized.error)}`);
    await this.firstJob;
    await this.factory.refill();
  }

  /** Tops up the shares in flight to the limit; called on start and after every answer. */
  pump(): void {
    const factory = this.factory!;
    while (this.tally.submitting && this.sent.size < this.options.inFlight) {
      const params = factory.take();
      if (params === undefined) {
        if (!this.refilling) {
          this.refilling = true;
          void factory.refill().finally(() => {
            this.refilling = false;
            this.pump();
          });
        }
        return;
      }
      const id = this.nextId++;
      this.sent.set(id, performance.now());
      this.ws.send(`{"id":${id},"method":"mining.submit","params":${params}}`);
    }
  }

  get pending(): number {
    return this.sent.size;
  }

  close(): void {
    this.ws.terminate();
  }

  private request(method: string, params: unknown[]): Promise<Response> {
    const id = this.nextId++;
    const response = new Promise<Response>((resolve) => this.waiting.set(id, resolve));
    this.ws.send(JSON.stringify({ id, method, params }));
    return response;
  }

  private receive(text: string): void {
    const message = JSON.parse(text) as Response;
    if (typeof message.id === 'number') {
      const sentAt = this.sent.get(message.id);
      if (sentAt !== undefined) {
        this.sent.delete(message.id);
        this.tally.answer(sentAt, message);
        this.pump();
        return;
      }
      this.waiting.get(message.id)?.(message);
      this.waiting.delete(message.id);
      return;
    }
    if (message.method === 'mining.notify') {
      this.factory?.setJob(parseNotifyParams(message.params));
      this.gotFirstJob();
    } else if (message.method === 'mining.set_difficulty') {
      const difficulty = Number(message.params?.[0]);
      if (difficulty !== this.options.difficulty) this.tally.warnings.add(`the gateway set difficulty ${difficulty}, not the pinned ${this.options.difficulty}`);
    } else if (message.method === 'client.reconnect') {
      this.tally.warnings.add('the gateway asked miners to reconnect');
    }
  }
}

/** N miners: connect them, run them, count their answers in a window, close them. */
export class LoadRun {
  private readonly tally = new Tally();
  private readonly miners: Miner[];
  private windowStart = 0;

  constructor(options: LoadOptions) {
    this.miners = Array.from({ length: options.connections }, (_, i) => new Miner(i, options, this.tally));
  }

  get warnings(): string[] {
    return [...this.tally.warnings];
  }

  /** Logs every miner in, at most `parallel` handshakes at a time (the listen backlog is finite). */
  async connectAll(parallel = 64): Promise<void> {
    let next = 0;
    const lanes = Array.from({ length: Math.min(parallel, this.miners.length) }, async () => {
      while (next < this.miners.length) await this.miners[next++]!.open();
    });
    await Promise.all(lanes);
  }

  startSubmitting(): void {
    this.tally.submitting = true;
    for (const miner of this.miners) miner.pump();
  }

  beginWindow(): void {
    this.tally.counting = true;
    this.windowStart = performance.now();
  }

  endWindow(): LoadWindow {
    const seconds = (performance.now() - this.windowStart) / 1000;
    const { tally } = this;
    tally.counting = false;
    const sorted = Float64Array.from(tally.latencies).sort();
    const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN);
    return { seconds, accepted: tally.accepted, rejected: { ...tally.rejected }, latencyMs: { p50: at(0.5), p99: at(0.99), max: sorted.length ? sorted[sorted.length - 1]! : NaN } };
  }

  /** Stops sending and waits (at most `timeoutMs`) for the answers still owed. */
  async drain(timeoutMs = 10_000): Promise<void> {
    this.tally.submitting = false;
    const began = Date.now();
    while (this.miners.some((m) => m.pending > 0) && Date.now() - began < timeoutMs) await new Promise((r) => setTimeout(r, 20));
    const owed = this.miners.reduce((n, m) => n + m.pending, 0);
    if (owed > 0) this.tally.warnings.add(`${owed} shares were never answered`);
  }

  close(): void {
    for (const miner of this.miners) miner.close();
  }
}
