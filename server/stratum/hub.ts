import type { Logger } from 'pino';
import type { Job } from '../work/job-manager.js';
import type { IpGuard } from './ip-guard.js';
import { clientKey } from '../client-key.js';
import { JobBroadcast } from './job-broadcast.js';
import { MessagePump, type PumpLimits } from './message-pump.js';
import { StratumSession, type Connection } from './session.js';
import type { SessionContext } from './session-context.js';
import { StrikeCounter, type BanReason, type Offence, type StrikeLimits } from './strike-counter.js';

/** One ban: of a connection, or of an address whose connections kept getting banned. */
export type Ban = { scope: 'connection'; reason: BanReason } | { scope: 'address'; reason: 'repeated connection bans' };

export interface BanPolicy {
  strikes: StrikeLimits;
  /** Each ban, after it is logged (the gateway counts them in a metric). */
  onBan(ban: Ban): void;
}

/**
 * Every live session, whatever its transport: admits connections (per-IP cap and bans), wires
 * each to a session and a message pump, broadcasts jobs, and hangs up on abusers: a connection
 * that earns a ban is closed alone; its address is banned only when the guard says so.
 */
export class StratumHub {
  readonly sessions = new Map<string, StratumSession>();
  /** Live identities per member, kept as sessions authorize and close: the API reads these, never walks sessions. */
  readonly memberWorkers = new Map<string, number>();
  /** The sessions holding an identity of each member: /api/members/:address reads these only. */
  readonly memberSessions = new Map<string, Set<StratumSession>>();
  workerCount = 0;
  /** Per connection, while it is live and not yet banned. */
  private readonly strikes = new Map<string, StrikeCounter>();
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
    private readonly bans: BanPolicy,
    private readonly log: Logger,
    tickIntervalMs = 5_000,
  ) {
    this.tickTimer = setInterval(() => {
      const nowMs = ctx.now();
      for (const session of this.sessions.values()) session.tick(nowMs);
      guard.sweep();
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
    this.strikes.set(connection.id, new StrikeCounter(this.bans.strikes));
    const pump = new MessagePump(session, this.limits, (offence) => this.strike(connection, offence));
    return (text) => pump.receive(text);
  }

  /** The transport saw the connection end (either side). */
  detach(connection: Connection): void {
    const session = this.sessions.get(connection.id);
    if (!session) return;
    this.sessions.delete(connection.id);
    this.strikes.delete(connection.id);
    this.guard.release(connection.remoteAddress);
    for (const identity of session.identities) this.forgetIdentity(identity.member);
    for (const identity of session.identities) {
      const holders = this.memberSessions.get(identity.member);
      holders?.delete(session);
      if (holders?.size === 0) this.memberSessions.delete(identity.member);
    }
    this.ctx.onSessionClosed?.(session);
  }

  /** A session authorized a new identity of `member`. */
  countIdentity(member: string, sessionId: string): void {
    this.memberWorkers.set(member, (this.memberWorkers.get(member) ?? 0) + 1);
    const session = this.sessions.get(sessionId);
    if (session) {
      let holders = this.memberSessions.get(member);
      if (!holders) this.memberSessions.set(member, (holders = new Set()));
      holders.add(session);
    }
    this.workerCount++;
  }

  private forgetIdentity(member: string): void {
    const left = (this.memberWorkers.get(member) ?? 1) - 1;
    if (left <= 0) this.memberWorkers.delete(member);
    else this.memberWorkers.set(member, left);
    this.workerCount--;
  }

  /** Sends `job` to every session, in slices (job-broadcast.ts). */
  broadcast(job: Job): void {
    this.jobs.send(job);
  }

  /** Counts an offence against a connection (strike-counter.ts says which count); a ban closes it. */
  strike(connection: { readonly id: string }, offence: Offence): void {
    const session = this.sessions.get(connection.id);
    const reason = this.strikes.get(connection.id)?.record(offence, this.ctx.now());
    if (!session || !reason) return;
    const { id, remoteAddress: ip } = session.connection;
    // Banned once: what it sends before the close lands counts no more.
    this.strikes.delete(id);
    this.log.warn({ ip, session: id, reason }, 'connection banned');
    this.bans.onBan({ scope: 'connection', reason });
    session.connection.close(`banned: too many invalid messages or shares (${reason})`);
    if (this.guard.connectionBanned(ip)) this.banAddress(ip);
  }

  /**
   * New connections from `ip` are refused for the ban's length. Of those open, the ones that
   * struck in their current window are closed; the ones with a clean record (the rest of a farm
   * behind the same NAT) mine on.
   */
  private banAddress(ip: string): void {
    const nowMs = this.ctx.now();
    this.log.warn({ ip }, 'address banned: several of its connections were banned');
    this.bans.onBan({ scope: 'address', reason: 'repeated connection bans' });
    for (const session of this.sessions.values()) {
      const { id, remoteAddress } = session.connection;
      if (clientKey(remoteAddress) !== clientKey(ip) || !this.strikes.get(id)?.hasStruck(nowMs)) continue;
      this.strikes.delete(id);
      session.connection.close('banned: this address keeps abusing the pool');
    }
  }

  close(): void {
    this.jobs.close();
    clearInterval(this.tickTimer);
  }
}
