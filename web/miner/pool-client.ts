import { jitteredBackoffMs } from '../../protocol/backoff.js';
import { bytesToHex, equalBytes, u32ToHex } from '../../protocol/hex.js';
import { StratumClientCore, type Timers } from '../../protocol/stratum/client-core.js';
import { StratumRpcError } from '../../protocol/stratum/errors.js';
import { stratumHandshake, WorkerRefusedError } from '../../protocol/stratum/handshake.js';
import { parseExtranonce, type Extranonce } from '../../protocol/stratum/subscription.js';
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
  /** A request unanswered this long counts as a dead connection: hang up and reconnect. */
  requestTimeoutMs?: number;
  timers?: Timers;
}

/** The host's timers, called as plain functions (a browser's throw "Illegal invocation" when called as methods of another object). */
const hostTimers: Timers = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

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
  /** The Stratum side of `transport`. */
  private core: StratumClientCore | undefined;
  private state: PoolState = 'disconnected';
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
    const core = new StratumClientCore({
      send: (message) => transport.send(message),
      timers: this.options.timers ?? hostTimers,
      ...(this.options.requestTimeoutMs ? { requestTimeoutMs: this.options.requestTimeoutMs } : {}),
      peer: this.options.url,
      userAgent: this.userAgent,
    });
    this.transport = transport;
    this.core = core;
    transport.onOpen(() => void this.handshake(transport, core));
    transport.onMessage((text) => core.receive(text));
    core.onNotification((method, params) => this.onNotification(method, params));
    // Whoever ends the core (a broken message, a share with no answer) hangs up; the transport's close does the rest.
    core.onClose(() => transport.close());
    transport.onClose((reason) => {
      core.close(reason); // fails what is still waiting for an answer
      if (this.transport !== transport) return;
      this.transport = undefined;
      this.core = undefined;
      if (this.state === 'stopped') return;
      this.setState('disconnected', reason);
      this.scheduleReconnect();
    });
  }

  private get userAgent(): string {
    return this.options.userAgent ?? 'dao-miner';
  }

  private async handshake(transport: PoolTransport, core: StratumClientCore): Promise<void> {
    try {
      await stratumHandshake(core, {
        pool: 'the pool',
        userAgent: this.userAgent,
        user: this.options.username,
        password: 'x',
        ...(this.subscriptionId ? { subscriptionId: this.subscriptionId } : {}),
        onSubscribed: (subscription) => {
          this.subscriptionId = subscription.subscriptionId ?? this.subscriptionId;
          this.setExtranonce(subscription);
        },
      });
    } catch (err) {
      // A refused worker stays refused; anything else (no answer, a malformed one) is worth a reconnect.
      if (err instanceof WorkerRefusedError) this.setState('stopped', err.message);
      return transport.close();
    }
    this.attempt = 0;
    this.setState('authorized');
    this.flush();
  }

  private setExtranonce({ extranonce1: next, extranonce2Size }: Extranonce): void {
    const changed = this.extranonce1 !== undefined && !equalBytes(next, this.extranonce1);
    this.extranonce1 = next;
    this.extranonce2Size = extranonce2Size;
    // Shares built on another extranonce1 cannot be credited any more.
    if (changed) this.dropQueued(() => true, 'the pool gave a new extranonce1');
  }

  private onNotification(method: string, params: unknown[]): void {
    switch (method) {
      case 'mining.set_difficulty':
        if (typeof params[0] === 'number' && params[0] > 0) this.difficulty = params[0];
        break;
      case 'mining.notify':
        this.onNotify(params);
        break;
      case 'mining.set_extranonce':
        this.onSetExtranonce(params);
        break;
      case 'client.reconnect':
        this.transport?.close();
        break;
    }
  }

  private onSetExtranonce(params: unknown[]): void {
    let extranonce: Extranonce;
    try {
      extranonce = parseExtranonce(params[0], params[1]);
    } catch {
      return; // a malformed one changes nothing
    }
    this.setExtranonce(extranonce);
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
    const core = this.core;
    if (this.state !== 'authorized' || !core) return;
    for (const pending of this.queue.splice(0)) {
      const { share } = pending;
      if (this.isStale(share)) {
        pending.resolve({ accepted: false, reason: 'stale: a new block' });
        continue;
      }
      const params = [this.options.username, share.job.job.jobId, bytesToHex(share.extranonce2), u32ToHex(share.job.job.ntime), u32ToHex(share.nonce)];
      core.request('mining.submit', params).then(
        (result) => pending.resolve(result === true ? { accepted: true } : { accepted: false, reason: 'refused' }),
        (err: Error) => {
          if (err instanceof StratumRpcError) return pending.resolve({ accepted: false, reason: err.message });
          if (this.state === 'stopped') return pending.resolve({ accepted: false, reason: 'miner stopped before the pool answered' });
          // No answer in time on an open connection is a dead one: hang up; the share goes again
          // after the reconnect (which resumes the session, so it stays valid).
          core.close(err.message);
          this.queue.push(pending);
        },
      );
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

  private scheduleReconnect(): void {
    const policy = { initialMs: this.options.reconnect?.initialDelayMs ?? 1000, maxMs: this.options.reconnect?.maxDelayMs ?? 30_000 };
    const delayMs = jitteredBackoffMs(this.attempt++, policy, this.options.random ?? Math.random);
    this.reconnectTimer = setTimeout(() => this.open(), delayMs);
  }

  private setState(state: PoolState, detail?: string): void {
    this.state = state;
    for (const listener of this.listeners.state) listener(state, detail);
  }
}
