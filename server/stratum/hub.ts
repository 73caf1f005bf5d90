import type { Logger } from 'pino';
import type { Job } from '../work/job-manager.js';
import type { IpGuard } from './ip-guard.js';
import { MessagePump, type PumpLimits } from './message-pump.js';
import { StratumSession, type Connection } from './session.js';
import type { SessionContext } from './session-context.js';

/**
 * Sessions notified per slice when a job goes out. Writing to 20,000 sockets takes a few hundred
 * milliseconds of the event loop; in slices, the shares that arrive meanwhile are answered between
 * them instead of waiting for the whole broadcast.
 */
const BROADCAST_SLICE = 1_000;
/**
 * Pause between slices of a job that does not ask miners to drop their work (a refresh with the
 * same previous block). Nothing is lost by a miner hearing of it a second later, and spreading it
 * keeps the broadcast from stalling the answers to shares. A clean job goes out as fast as it can.
 */
const REFRESH_SLICE_PAUSE_MS = 100;

/**
 * Every live session, whatever its transport: admits connections (per-IP cap and bans), wires
 * each to a session and a message pump, broadcasts jobs, and hangs up on abusers.
 */
export class StratumHub {
  readonly sessions = new Map<string, StratumSession>();
  private readonly tickTimer: NodeJS.Timeout;
  /** Jobs waiting to go out, oldest first: each reaches every session in the order they came. */
  private readonly outbox: Job[] = [];
  private sending: Iterator<StratumSession> | undefined;
  private pause: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly ctx: SessionContext,
    private readonly guard: IpGuard,
    private readonly limits: PumpLimits,
    private readonly log: Logger,
    tickIntervalMs = 5_000,
  ) {
    this.tickTimer = setInterval(() => {
      const nowMs = ctx.now();
      for (const session of this.sessions.values()) session.tick(nowMs);
    }, tickIntervalMs);
    this.tickTimer.unref();
  }

  /** A new connection: returns where its messages go, or undefined when it was refused and closed. */
  attach(connection: Connection): ((text: string) => void) | undefined {
    const refusal = this.guard.admit(connection.remoteAddress);
    if (refusal) {
      this.log.info({ ip: connection.remoteAddress, reason: refusal }, 'connection refused');
      connection.close(refusal);
      return undefined;
    }
    const session = new StratumSession(this.ctx, connection);
    this.sessions.set(connection.id, session);
    const pump = new MessagePump(session, this.limits, () => this.strike(connection.remoteAddress));
    return (text) => pump.receive(text);
  }

  /** The transport saw the connection end (either side). */
  detach(connection: Connection): void {
    const session = this.sessions.get(connection.id);
    if (!session) return;
    this.sessions.delete(connection.id);
    this.guard.release(connection.remoteAddress);
    this.ctx.onSessionClosed?.(session);
  }

  /** Sends `job` to every session: the first slice now, the rest on following turns. */
  broadcast(job: Job): void {
    if (isClean(job)) {
      // A clean job supersedes every job still going out: sessions not reached yet skip to it.
      this.outbox.length = 0;
      this.sending = undefined;
      clearTimeout(this.pause);
      this.outbox.push(job);
      return this.sendSlices();
    }
    this.outbox.push(job);
    if (!this.sending) this.sendSlices();
  }

  private sendSlices(): void {
    while (!this.closed) {
      const job = this.outbox[0];
      if (!job) return;
      // A snapshot of who is connected when the job's turn comes; later sessions get the current
      // job when they authorize.
      this.sending ??= [...this.sessions.values()][Symbol.iterator]();
      for (let i = 0; i < BROADCAST_SLICE; i++) {
        const next = this.sending.next();
        if (next.done) {
          this.outbox.shift();
          this.sending = undefined;
          break;
        }
        // A session that closed since the snapshot has nothing left to send to.
        if (this.sessions.has(next.value.connection.id)) next.value.sendJob(job);
      }
      if (this.sending) {
        if (isClean(job)) setImmediate(() => this.sendSlices());
        else this.pause = setTimeout(() => this.sendSlices(), REFRESH_SLICE_PAUSE_MS);
        return;
      }
    }
  }

  /** Counts an invalid message or share against an address; a ban closes all its connections. */
  strike(ip: string): boolean {
    if (!this.guard.strike(ip)) return false;
    this.log.warn({ ip }, 'address banned for a flood of invalid messages or shares');
    for (const session of this.sessions.values()) {
      if (session.connection.remoteAddress === ip) session.connection.close('banned: too many invalid messages or shares');
    }
    return true;
  }

  close(): void {
    this.closed = true;
    this.outbox.length = 0;
    clearTimeout(this.pause);
    clearInterval(this.tickTimer);
  }
}

function isClean(job: Job): boolean {
  return job.notifyParams[8] === true;
}
