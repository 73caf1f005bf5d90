// One load miner: logs in like a real Stratum miner, then submits a valid, distinct share each
// time the pacer says so, and reports each answer's latency and verdict to the tally.
import { hexToBytes } from '../../protocol/hex.js';
import { difficultyToTarget } from '../../protocol/target.js';
import { memberAddress } from '../bench-gateway-session.js';
import { openLink, type Endpoint, type Link } from './links.js';
import { MinerShares } from './shares.js';
import type { Tally } from './tally.js';

interface Message {
  id?: number | string | null;
  method?: string;
  params?: unknown[];
  result?: unknown;
  error?: unknown;
}

/** A submit in flight: when it left, how many clean jobs the miner had seen then, and what it was. */
interface InFlight {
  sentAtMs: number;
  cleanJobs: number;
  params: string;
  /** The mining.notify params of the job it was made for (shared, never copied). */
  job: unknown[] | undefined;
}

/** Logins again after a drop, with `reconnect`: tries, and the pause between them. */
const RECONNECT_TRIES = 40;
const RECONNECT_PAUSE_MS = 250;

/** One submit's answer, for callers that check the ledger afterwards (a crash test). */
export interface Answer {
  miner: number;
  /** The mining.submit params as sent: [worker, job id, extranonce2, ntime, nonce], as JSON. */
  params: string;
  accepted: boolean;
  /**
   * The connection's extranonce1 (hex) and the mining.notify params of the share's job: with
   * `params`, what the gateway hashed, so a caller can find the share's hash in the ledger.
   */
  extranonce1: string;
  job: unknown[] | undefined;
  /** The gateway's error text when not accepted. */
  reason: string | undefined;
  latencyMs: number;
}

export interface MinerSettings {
  endpoint: Endpoint;
  localAddress: string | undefined;
  /** Connect, subscribe, authorize and the first job must each come within this. */
  stepTimeoutMs: number;
  /** The difficulty the gateway was pinned at (spawned gateway), to report any change. */
  pinnedDifficulty: number | undefined;
  /** Log in again when the connection drops during the run (LoadOptions.reconnect). */
  reconnect: boolean;
  onAnswer: ((answer: Answer) => void) | undefined;
}

export class LoadMiner {
  private link: Link | undefined;
  private shares: MinerShares | undefined;
  private nextId = 1;
  private readonly inFlight = new Map<number, InFlight>();
  private readonly waiting = new Map<number, { resolve: (m: Message) => void; reject: (err: Error) => void }>();
  private cleanJobs = 0;
  /** Due submits that found no share ready: sent as soon as the refill brings some. */
  private owed = 0;
  private refilling = false;
  private gotJob: (() => void) | undefined;
  /** Fails the login in progress when the connection drops during it. */
  private loginFailed: ((err: Error) => void) | undefined;
  /** We hung up (end of run): the close that follows is not an error. */
  private closing = false;
  private extranonce1 = '';
  private reconnecting = false;
  private job: unknown[] | undefined;
  open = false;
  /** The last difficulty the gateway set (undefined before its first set_difficulty). */
  difficulty: number | undefined;

  constructor(
    private readonly index: number,
    private readonly settings: MinerSettings,
    private readonly tally: Tally,
  ) {}

  /** Closed, but logging in again (LoadOptions.reconnect). */
  get comingBack(): boolean {
    return this.reconnecting;
  }

  get pending(): number {
    return this.inFlight.size;
  }

  /** Connects, subscribes, authorizes as <member>.w<index>, and waits for the first job. */
  async connect(): Promise<void> {
    const { endpoint, localAddress, stepTimeoutMs } = this.settings;
    this.link = await openLink(endpoint, localAddress, { message: (text) => this.receive(text), closed: (why) => this.closed(why) }, stepTimeoutMs);
    this.open = true;
    const firstJob = new Promise<void>((resolve, reject) => {
      this.gotJob = resolve;
      this.loginFailed = reject;
    });
    // Never awaited if the login fails earlier: its rejection must not go unhandled.
    firstJob.catch(() => undefined);
    const subscribed = await this.request('mining.subscribe', ['dao-load/1.0']);
    const [, extranonce1, extranonce2Size] = subscribed.result as [unknown, string, number];
    this.extranonce1 = extranonce1;
    const worker = `${memberAddress(this.index)}.w${this.index}`;
    // A running gateway says its difficulty right after authorize; until then any target will do.
    const difficulty = this.settings.pinnedDifficulty ?? 1;
    this.shares = new MinerShares(worker, hexToBytes(extranonce1, 'extranonce1'), extranonce2Size, difficultyToTarget(difficulty));
    const authorized = await this.request('mining.authorize', [worker, 'x']);
    if (authorized.result !== true) throw new Error(`authorize refused: ${JSON.stringify(authorized.error)}`);
    await withTimeout(firstJob, stepTimeoutMs, 'no job after authorize');
  }

  /** Makes the first shares, apart from the login so that the connect time is the gateway's. */
  async prepare(): Promise<void> {
    if (this.open && this.shares && this.shares.available === 0) await this.shares.refill();
  }

  /** The pacer's call: one share now (or as soon as one is made). */
  submit(): void {
    if (!this.open || !this.shares) return;
    const params = this.shares.take();
    if (params === undefined) {
      this.owed++;
      this.refill();
      return;
    }
    this.send(params);
    // Made ahead, so the next due submit does not wait for the engine.
    if (this.shares.available === 0) this.refill();
  }

  close(): void {
    this.closing = true;
    this.open = false;
    this.link?.close();
  }

  private send(params: string): void {
    const id = this.nextId++;
    this.inFlight.set(id, { sentAtMs: performance.now(), cleanJobs: this.cleanJobs, params, job: this.job });
    this.tally.sent();
    this.link!.send(`{"id":${id},"method":"mining.submit","params":${params}}`);
  }

  private refill(): void {
    if (this.refilling || !this.shares) return;
    this.refilling = true;
    // One round per macrotask: at a real difficulty a share takes many rounds, and a chain of
    // promise callbacks (the engine answers at once) would starve the sockets and timers meanwhile.
    setImmediate(() => this.refillRound());
  }

  private refillRound(): void {
    this.shares!.refill().then(
      (possible) => {
        this.refilling = false;
        // No job yet: the owed shares go out from the first notify's refill, not from a spin.
        if (!possible) return;
        while (this.owed > 0 && this.open) {
          const params = this.shares!.take();
          if (params === undefined) return this.refill();
          this.owed--;
          this.send(params);
        }
        if (this.open && this.shares!.available === 0) this.refill();
      },
      (err: unknown) => {
        this.refilling = false;
        this.tally.error(`making a share failed: ${(err as Error).message}`);
      },
    );
  }

  private request(method: string, params: unknown[]): Promise<Message> {
    const id = this.nextId++;
    const answer = new Promise<Message>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    this.link!.send(JSON.stringify({ id, method, params }));
    return withTimeout(answer, this.settings.stepTimeoutMs, `no answer to ${method}`);
  }

  private receive(text: string): void {
    let message: Message;
    if (text === lastNotify.text) {
      // A job goes to every miner as the same text: parsing it once instead of 20,000 times keeps
      // the generator's own stall out of the latency it measures.
      message = lastNotify.message!;
    } else {
      try {
        message = JSON.parse(text) as Message;
      } catch {
        this.tally.error('the gateway sent a line that is not JSON');
        return;
      }
      if (message.method === 'mining.notify') {
        lastNotify.text = text;
        lastNotify.message = message;
      }
    }
    if (typeof message.id === 'number') {
      const flight = this.inFlight.get(message.id);
      if (flight) {
        this.inFlight.delete(message.id);
        const latencyMs = performance.now() - flight.sentAtMs;
        this.tally.answer(latencyMs, message.result, message.error, flight.cleanJobs !== this.cleanJobs);
        const { onAnswer } = this.settings;
        if (onAnswer) {
          const accepted = message.result === true;
          const reason = accepted ? undefined : Array.isArray(message.error) ? String(message.error[1]) : JSON.stringify(message.error ?? message.result);
          onAnswer({ miner: this.index, params: flight.params, accepted, extranonce1: this.extranonce1, job: flight.job, reason, latencyMs });
        }
        return;
      }
      const waiter = this.waiting.get(message.id);
      this.waiting.delete(message.id);
      if (waiter) waiter.resolve(message);
      else this.tally.error('an answer to no request');
      return;
    }
    switch (message.method) {
      case 'mining.notify': {
        try {
          if (this.shares?.setJob(message.params ?? [])) this.cleanJobs++;
          this.job = message.params;
          if (this.owed > 0) this.refill();
        } catch (err) {
          this.tally.error((err as Error).message.slice(0, 80));
          return;
        }
        this.gotJob?.();
        return;
      }
      case 'mining.set_difficulty': {
        const difficulty = Number(message.params?.[0]);
        this.difficulty = difficulty;
        const pinned = this.settings.pinnedDifficulty;
        if (pinned !== undefined && difficulty !== pinned) this.tally.error(`the gateway set difficulty ${difficulty}, not the pinned ${pinned}`);
        // Against a gateway we did not start, follow its difficulty: shares get dearer, not wrong.
        if (pinned === undefined) this.shares?.setTarget(difficultyToTarget(difficulty));
        return;
      }
      case 'client.reconnect':
        this.tally.error('the gateway asked miners to reconnect');
        return;
      case 'client.show_message':
        // The TCP transport says why just before it closes; the close itself is counted.
        return;
      default:
        this.tally.error(`unexpected message from the gateway: ${message.method ?? text.slice(0, 80)}`);
    }
  }

  private closed(why: string): void {
    const wasOpen = this.open;
    this.open = false;
    if (this.closing) return;
    const lost = new Error(`connection closed while logging in: ${why}`);
    for (const waiter of this.waiting.values()) waiter.reject(lost);
    this.waiting.clear();
    this.loginFailed?.(lost);
    // A login again that failed half-way: its own loop tries once more.
    if (this.reconnecting) return;
    if (this.settings.reconnect && wasOpen && this.tally.live) {
      this.tally.interrupted(`connection closed during the run, logged in again: ${why}`);
      if (this.inFlight.size > 0) this.tally.interrupted('shares unanswered when their connection closed (not acknowledged)', this.inFlight.size);
      this.inFlight.clear();
      // The next connection has its own extranonce1: no share of this one may go out on it.
      this.shares = undefined;
      void this.loginAgain(why);
      return;
    }
    if (wasOpen && this.tally.live) this.tally.error(`connection closed during the run: ${why}`);
    if (this.inFlight.size > 0) this.tally.error('shares lost with a closed connection', this.inFlight.size);
    this.inFlight.clear();
  }

  /** After a drop: log in again until it works (the balancer sends us to a gateway still up). */
  private async loginAgain(why: string): Promise<void> {
    this.reconnecting = true;
    try {
      for (let attempt = 1; attempt <= RECONNECT_TRIES; attempt++) {
        await new Promise((resolve) => setTimeout(resolve, RECONNECT_PAUSE_MS));
        if (this.closing || !this.tally.live) return;
        try {
          await this.connect();
          await this.prepare();
          return;
        } catch {
          this.open = false;
          this.shares = undefined;
          this.link?.close();
        }
      }
      this.tally.error(`could not log in again in ${RECONNECT_TRIES} tries after: ${why}`);
    } finally {
      this.reconnecting = false;
    }
  }
}

/** The last mining.notify parsed, shared by every miner of the run (read-only). */
const lastNotify: { text: string | undefined; message: Message | undefined } = { text: undefined, message: undefined };

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
