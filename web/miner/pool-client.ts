import { bytesToHex, equalBytes, hexToBytes, u32ToHex } from '../../protocol/hex.js';
import { parseNotifyParams, type StratumJob } from '../../protocol/stratum-job.js';
import { difficultyToTarget, type Difficulty, type Target } from '../../protocol/target.js';

/** A message channel to the pool: a WebSocket in the browser, a WebSocket or TCP socket in Node. */
export interface PoolTransport {
  send(text: string): void;
  close(): void;
  onOpen(listener: () => void): void;
  onMessage(listener: (text: string) => void): void;
  /** Called once, when the channel ends for any reason. */
  onClose(listener: (reason: string) => void): void;
}

/** A job as the miner works it: the notify, the session's extranonce, and the difficulty for it. */
export interface PoolJob {
  job: StratumJob;
  extranonce1: Uint8Array;
  extranonce2Size: number;
  difficulty: Difficulty;
  target: Target;
  /** Increases with every job; a clean job makes all lower serials stale. */
  serial: number;
}

export interface FoundShare {
  job: PoolJob;
  extranonce2: Uint8Array;
  nonce: number;
}

export interface ShareOutcome {
  accepted: boolean;
  reason?: string;
}

export type PoolState = 'connecting' | 'authorized' | 'disconnected' | 'stopped';

export interface PoolClientOptions {
  url: string;
  /** `0x<address>[.worker]`: the member the work is credited to. */
  username: string;
  userAgent?: string;
  connect: (url: string) => PoolTransport;
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  random?: () => number;
}

interface Pending {
  share: FoundShare;
  resolve: (outcome: ShareOutcome) => void;
}

/**
 * The miner's Stratum V1 client: subscribe, authorize, follow set_difficulty / notify /
 * set_extranonce / client.reconnect, and submit shares. Shares found while the pool is away are
 * queued and sent after the reconnect (the session is resumed with its subscription id, so they
 * stay valid) unless a clean job made them stale.
 */
export class PoolClient {
  private transport: PoolTransport | undefined;
  private state: PoolState = 'disconnected';
  private nextId = 1;
  private readonly waiting = new Map<number, (message: Record<string, unknown>) => void>();
  private readonly queue: Pending[] = [];
  private extranonce1: Uint8Array | undefined;
  private extranonce2Size = 0;
  private subscriptionId: string | undefined;
  private difficulty: Difficulty = 1;
  private serial = 0;
  /** The previous-block hash of the last clean job: work on any other block is stale. */
  private currentBlock: Uint8Array | undefined;
  private current: PoolJob | undefined;
  private attempt = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly listeners = { job: [] as ((job: PoolJob) => void)[], state: [] as ((state: PoolState, detail?: string) => void)[] };

  constructor(private readonly options: PoolClientOptions) {}

  get job(): PoolJob | undefined {
    return this.current;
  }

  onJob(listener: (job: PoolJob) => void): void {
    this.listeners.job.push(listener);
  }

  onState(listener: (state: PoolState, detail?: string) => void): void {
    this.listeners.state.push(listener);
  }

  start(): void {
    if (this.state !== 'disconnected' && this.state !== 'stopped') return;
    this.open();
  }

  stop(): void {
    this.setState('stopped');
    clearTimeout(this.reconnectTimer);
    this.transport?.close();
    for (const p of this.queue.splice(0)) p.resolve({ accepted: false, reason: 'miner stopped' });
  }

  /** Submits a share now, or after the reconnect when the pool is away. */
  submit(share: FoundShare): Promise<ShareOutcome> {
    return new Promise((resolve) => {
      this.queue.push({ share, resolve });
      this.flush();
    });
  }

  private open(): void {
    this.setState('connecting');
    const transport = this.options.connect(this.options.url);
    this.transport = transport;
    transport.onOpen(() => void this.handshake(transport));
    transport.onMessage((text) => this.receive(text));
    transport.onClose((reason) => {
      if (this.transport !== transport) return;
      this.transport = undefined;
      for (const resolve of this.waiting.values()) resolve({ error: [20, 'connection closed'] });
      this.waiting.clear();
      if (this.state === 'stopped') return;
      this.setState('disconnected', reason);
      this.scheduleReconnect();
    });
  }

  private async handshake(transport: PoolTransport): Promise<void> {
    const subscribed = await this.request('mining.subscribe', [this.options.userAgent ?? 'dao-miner', ...(this.subscriptionId ? [this.subscriptionId] : [])]);
    const result = subscribed.result as [[string, string][], string, number] | undefined;
    if (!result) return transport.close();
    this.subscriptionId = result[0]?.[0]?.[1] ?? this.subscriptionId;
    this.setExtranonce(result[1], result[2]);
    const authorized = await this.request('mining.authorize', [this.options.username, 'x']);
    if (authorized.result !== true) {
      this.setState('stopped', `the pool refused ${this.options.username}: ${JSON.stringify(authorized.error)}`);
      return transport.close();
    }
    this.attempt = 0;
    this.setState('authorized');
    this.flush();
  }

  private setExtranonce(extranonce1Hex: string, extranonce2Size: number): void {
    const next = hexToBytes(extranonce1Hex, 'extranonce1');
    const changed = this.extranonce1 !== undefined && !equalBytes(next, this.extranonce1);
    this.extranonce1 = next;
    this.extranonce2Size = extranonce2Size;
    // Shares built on another extranonce1 cannot be credited any more.
    if (changed) this.dropQueued(() => true, 'the pool gave a new extranonce1');
  }

  private receive(text: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    if (typeof message.id === 'number' && this.waiting.has(message.id) && message.method === undefined) {
      this.waiting.get(message.id)!(message);
      this.waiting.delete(message.id);
      return;
    }
    const params = Array.isArray(message.params) ? message.params : [];
    switch (message.method) {
      case 'mining.set_difficulty':
        if (typeof params[0] === 'number' && params[0] > 0) this.difficulty = params[0];
        break;
      case 'mining.notify':
        this.onNotify(params);
        break;
      case 'mining.set_extranonce':
        if (typeof params[0] === 'string' && typeof params[1] === 'number') this.setExtranonce(params[0], params[1]);
        break;
      case 'client.reconnect':
        this.transport?.close();
        break;
    }
  }

  private onNotify(params: unknown[]): void {
    if (!this.extranonce1) return;
    let job: StratumJob;
    try {
      job = parseNotifyParams(params);
    } catch {
      return;
    }
    const serial = ++this.serial;
    if (job.cleanJobs) {
      // clean_jobs is also set on the first job after a (re)connect: only a new previous block
      // makes queued work stale.
      this.currentBlock = job.prevhash;
      this.dropQueued((p) => this.isStale(p.share), 'stale: a new block');
    }
    this.current = { job, extranonce1: this.extranonce1, extranonce2Size: this.extranonce2Size, difficulty: this.difficulty, target: difficultyToTarget(this.difficulty), serial };
    for (const listener of this.listeners.job) listener(this.current);
  }

  private flush(): void {
    if (this.state !== 'authorized') return;
    for (const pending of this.queue.splice(0)) {
      const { share } = pending;
      if (this.isStale(share)) {
        pending.resolve({ accepted: false, reason: 'stale: a new block' });
        continue;
      }
      const params = [this.options.username, share.job.job.jobId, bytesToHex(share.extranonce2), u32ToHex(share.job.job.ntime), u32ToHex(share.nonce)];
      void this.request('mining.submit', params).then((response) => {
        const error = response.error as [number, string] | null | undefined;
        if (response.result === true) pending.resolve({ accepted: true });
        else if (error?.[1] === 'connection closed' && this.state !== 'stopped') this.queue.push(pending);
        else if (error?.[1] === 'connection closed') pending.resolve({ accepted: false, reason: 'miner stopped before the pool answered' });
        else pending.resolve({ accepted: false, reason: error?.[1] ?? 'refused' });
      });
    }
  }

  private isStale(share: FoundShare): boolean {
    return this.currentBlock !== undefined && !equalBytes(share.job.job.prevhash, this.currentBlock);
  }

  private dropQueued(match: (p: Pending) => boolean, reason: string): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (match(this.queue[i]!)) this.queue.splice(i, 1)[0]!.resolve({ accepted: false, reason });
    }
  }

  private request(method: string, params: unknown[]): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.transport?.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Exponential backoff with full jitter, so a pool restart is not met by every miner at once. */
  private scheduleReconnect(): void {
    const initial = this.options.reconnect?.initialDelayMs ?? 1000;
    const max = this.options.reconnect?.maxDelayMs ?? 30_000;
    const delayMs = (this.options.random ?? Math.random)() * Math.min(max, initial * 2 ** this.attempt++);
    this.reconnectTimer = setTimeout(() => this.open(), delayMs);
  }

  private setState(state: PoolState, detail?: string): void {
    this.state = state;
    for (const listener of this.listeners.state) listener(state, detail);
  }
}
