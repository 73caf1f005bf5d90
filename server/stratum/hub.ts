import type { Logger } from 'pino';
import type { Job } from '../work/job-manager.js';
import type { IpGuard } from './ip-guard.js';
import { JobBroadcast } from './job-broadcast.js';
import { MessagePump, type PumpLimits } from './message-pump.js';
import { StratumSession, type Connection } from './session.js';
import type { SessionContext } from './session-context.js';

/**
 * Every live session, whatever its transport: admits connections (per-IP cap and bans), wires
 * each to a session and a message pump, broadcasts jobs, and hangs up on abusers.
 */
export class StratumHub {
  readonly sessions = new Map<string, StratumSession>();
  private readonly tickTimer: NodeJS.Timeout;
  private readonly jobs = new JobBroadcast<StratumSession>({
    snapshot: () => [...this.sessions.values()],
    isLive: (session) => this.sessions.has(session.connection.id),
    deliver: (session, job) => session.sendJob(job),
  });

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

  /** Sends `job` to every session, in slices (job-broadcast.ts). */
  broadcast(job: Job): void {
    this.jobs.send(job);
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
    this.jobs.close();
    clearInterval(this.tickTimer);
  }
}
