import { ProtocolError } from '../../protocol/errors.js';
import { bytesToHex, concatBytes, hexToU32, u32ToHex } from '../../protocol/hex.js';
import { shareMerkleRoot, verifyShare } from '../../protocol/share.js';
import { parseSubmitParams, type ShareSubmission } from '../../protocol/stratum-job.js';
import { difficultyToWork, parseDifficulty, type Difficulty } from '../../protocol/target.js';
import { shareProofText } from '../work/audit-jobs.js';
import type { Job } from '../work/job-manager.js';
import { encodeError, encodeNotification, encodeResult, type RpcRequest } from '../../protocol/stratum/codec.js';
import { StratumCode, StratumError } from '../../protocol/stratum/errors.js';
import { MerkleRootCache } from './merkle-root-cache.js';
import type { SessionContext, SessionView, ShareFault } from './session-context.js';
import { parseUsername, type MinerIdentity } from './username.js';
import { passwordDifficulty, SessionDifficulty } from './session-difficulty.js';

/** What a transport gives a session: a way to send one message and to hang up. */
export interface Connection {
  readonly id: string;
  /** Which listener it came through (metrics by transport); absent for in-process test connections. */
  readonly transport?: 'tcp' | 'ws';
  readonly remoteAddress: string;
  send(text: string): void;
  close(reason: string): void;
}

/** What to send right after a request's own response (a first job, a new difficulty). */
interface After {
  then?: () => void;
}

/**
 * One miner connection's Stratum state, the same over WebSocket and TCP. It trusts nothing the
 * miner says: every share is rebuilt from the job this gateway issued and hashed again.
 */
export class StratumSession implements SessionView {
  private extranonce1: Uint8Array | undefined;
  private extranonce2Size = 0;
  private readonly workers = new Map<string, MinerIdentity>();
  private versionMask = 0;
  /** What the miner asked for in mining.configure; the granted mask is this within the pool's. */
  private requestedVersionMask = 0;
  private extranonceSubscribed = false;
  private readonly difficulties: SessionDifficulty;
  /** The ntime of the last job sent: a retarget's job must have a later one (a new header). */
  private lastNtime = 0;
  /** Made at the first share, when the extranonce2 size is known; dropped when the extranonce changes. */
  private merkleRoots: MerkleRootCache | undefined;
  private jobsFlowing = false;
  private authorizeWindowStartMs = -Infinity;
  private authorizationsInWindow = 0;
  /** The last row-budget raise of its address this session applied (row-budget.ts). */
  private appliedRaise = 0;
  /** Given at subscribe; a reconnecting miner presents it to get its extranonce1 back. */
  subscriptionId = '';
  readonly connectedAtMs: number;
  userAgent = '';

  constructor(
    private readonly ctx: SessionContext,
    readonly connection: Connection,
  ) {
    this.connectedAtMs = ctx.now();
    this.difficulties = new SessionDifficulty(ctx.vardiff, ctx.startDifficulty, this.connectedAtMs, ctx.limits.suggestIntervalSeconds * 1000);
  }

  get difficulty(): Difficulty {
    return this.difficulties.current;
  }

  get identities(): MinerIdentity[] {
    return [...this.workers.values()];
  }

  /**
   * Handles one request and sends its response. Never throws. Everything up to a share's ledger
   * write runs synchronously, in arrival order, so a pipelining miner's next message need not
   * wait for this one's commit (the message pump does not await it).
   */
  async handle(request: RpcRequest): Promise<void> {
    const after: After = {};
    try {
      const result = await this.dispatch(request, after);
      this.connection.send(encodeResult(request.id, result));
      after.then?.();
    } catch (err) {
      const error = err instanceof StratumError ? err : new StratumError(StratumCode.OTHER, err instanceof ProtocolError ? err.message : 'internal error');
      if (!(err instanceof StratumError) && !(err instanceof ProtocolError)) this.ctx.log.error({ err, session: this.connection.id }, 'request failed');
      this.connection.send(encodeError(request.id, error, request.method));
    }
  }

  /** A new job from the job manager, for every session that is mining. */
  sendJob(job: Job): void {
    if (!this.jobsFlowing) return;
    this.difficulties.sent(job.id);
    this.difficulties.forgetUnless((id) => this.ctx.jobs.get(id) !== undefined);
    this.lastNtime = job.stratum.ntime;
    this.connection.send(notifyText(job));
  }

  /** Periodic: lets vardiff lower the difficulty of a miner that has gone quiet. */
  tick(nowMs: number): void {
    if (!this.jobsFlowing) return;
    const changed = this.difficulties.onTick(nowMs);
    if (changed !== undefined) this.sendDifficultyAndJob();
  }

  /** The gateway is going away or the work source moved: ask the miner to come back. */
  reconnect(waitSeconds: number): void {
    this.connection.send(encodeNotification('client.reconnect', ['', 0, waitSeconds]));
  }

  /** The work source's extranonce slot changed size: a new extranonce1, or a reconnect. */
  changeExtranonce(extranonce1: Uint8Array, extranonce2Size: number): boolean {
    if (!this.extranonceSubscribed) return false;
    this.extranonce1 = extranonce1;
    this.extranonce2Size = extranonce2Size;
    // Roots were built with the old extranonce1 (and the extranonce2 size may differ).
    this.merkleRoots = undefined;
    this.connection.send(encodeNotification('mining.set_extranonce', [bytesToHex(extranonce1), extranonce2Size]));
    return true;
  }

  /** The pool's mask changed (an upstream granted less after reconnecting): BIP310's set_version_mask. */
  updateVersionMask(): void {
    if (this.requestedVersionMask === 0) return;
    const mask = (this.requestedVersionMask & this.ctx.versionRollingMask) >>> 0;
    if (mask === this.versionMask) return;
    this.versionMask = mask;
    this.connection.send(encodeNotification('mining.set_version_mask', [u32ToHex(mask)]));
  }

  get extranonce(): Uint8Array | undefined {
    return this.extranonce1;
  }

  private dispatch(request: RpcRequest, after: After): unknown {
    const p = request.params;
    switch (request.method) {
      case 'mining.subscribe':
        return this.subscribe(p);
      case 'mining.authorize':
        return this.authorize(p, after);
      case 'mining.configure':
        return this.configure(p, after);
      // ckpool's proxy asks with mining.suggest; miners with mining.suggest_difficulty.
      case 'mining.suggest_difficulty':
      case 'mining.suggest':
        return this.suggestDifficulty(request.method, p, after);
      case 'mining.extranonce.subscribe':
        this.extranonceSubscribed = true;
        return true;
      case 'mining.submit':
        return this.submit(p, after);
      default:
        throw new StratumError(StratumCode.OTHER, `unknown method "${request.method.slice(0, 64)}"`);
    }
  }

  private subscribe(params: unknown[]): unknown {
    if (typeof params[0] === 'string') this.userAgent = params[0].slice(0, 128);
    if (!this.extranonce1) {
      const allocated = this.ctx.allocateExtranonce(typeof params[1] === 'string' ? params[1] : undefined);
      this.extranonce1 = allocated.extranonce1;
      this.extranonce2Size = allocated.extranonce2Size;
      this.subscriptionId = allocated.subscriptionId;
    }
    const subscriptionId = this.subscriptionId;
    return [
      [
        ['mining.set_difficulty', subscriptionId],
        ['mining.notify', subscriptionId],
      ],
      bytesToHex(this.extranonce1),
      this.extranonce2Size,
    ];
  }

  private authorize(params: unknown[], after: After): boolean {
    if (!this.extranonce1) throw new StratumError(StratumCode.NOT_SUBSCRIBED, 'not subscribed');
    const nowMs = this.ctx.now();
    // Fixed one-minute windows: cheap, and a burst at a window's edge is at most twice the rate.
    if (nowMs - this.authorizeWindowStartMs >= 60_000) {
      this.authorizeWindowStartMs = nowMs;
      this.authorizationsInWindow = 0;
    }
    if (++this.authorizationsInWindow > this.ctx.limits.authorizationsPerMinute) {
      this.ctx.onLimitHit(this, 'authorize_rate');
      throw new StratumError(StratumCode.OTHER, `too many authorizations: at most ${this.ctx.limits.authorizationsPerMinute} a minute per connection`);
    }
    const username = params[0];
    const identity = parseUsername(username);
    // Every identity costs memory and is listed by the API: a connection may hold only a few.
    if (!this.workers.has(username as string) && this.workers.size >= this.ctx.limits.maxIdentitiesPerSession) {
      this.ctx.onLimitHit(this, 'identities');
      throw new StratumError(StratumCode.OTHER, `too many workers on one connection: at most ${this.ctx.limits.maxIdentitiesPerSession} distinct usernames; open another connection`);
    }
    const isNew = !this.workers.has(username as string);
    this.workers.set(username as string, identity);
    if (isNew) this.ctx.onAuthorized(this, identity);
    // The d= password convention (`x,d=1024`): a difficulty request that never fails the login.
    const requested = passwordDifficulty(params[1]);
    if (requested !== undefined) {
      try {
        this.requestDifficulty(requested, after);
      } catch (err) {
        if (!(err instanceof StratumError)) throw err;
      }
    }
    if (!this.jobsFlowing) {
      this.jobsFlowing = true;
      after.then = () => this.sendDifficultyAndJob(false);
    }
    return true;
  }

  private configure(params: unknown[], after: After): Record<string, unknown> {
    const [extensions, options] = params;
    if (!Array.isArray(extensions) || extensions.some((e) => typeof e !== 'string')) {
      throw new StratumError(StratumCode.OTHER, 'configure: expected a list of extension names');
    }
    const opts = (options !== null && typeof options === 'object' ? options : {}) as Record<string, unknown>;
    const result: Record<string, unknown> = {};
    for (const extension of extensions as string[]) {
      if (extension === 'version-rolling') {
        this.requestedVersionMask = opts['version-rolling.mask'] === undefined ? 0xffffffff : hexToU32(opts['version-rolling.mask'], 'version-rolling.mask');
        this.versionMask = (this.requestedVersionMask & this.ctx.versionRollingMask) >>> 0;
        result['version-rolling'] = this.versionMask !== 0;
        result['version-rolling.mask'] = u32ToHex(this.versionMask);
      } else if (extension === 'minimum-difficulty') {
        // Only a number or a numeric string: Number() of a nested array recurses through it.
        const raw = opts['minimum-difficulty.value'];
        const value = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : NaN;
        if (!(value > 0) || !Number.isFinite(value)) throw new StratumError(StratumCode.OTHER, 'minimum-difficulty.value must be a positive number');
        const outcome = this.difficulties.setMinimum(value, this.ctx.now(), this.jobsFlowing);
        if (outcome === 'refused') this.ctx.onLimitHit(this, 'suggest_rate');
        // Refused (too soon after a change) it is not in force: the miner is told so.
        result['minimum-difficulty'] = outcome !== 'refused';
        // A new job only when the difficulty moved: a repeated request must not mint jobs.
        if (this.jobsFlowing && outcome === 'changed') after.then = () => this.sendDifficultyAndJob();
      } else {
        result[extension.slice(0, 64)] = false;
      }
    }
    return result;
  }

  private suggestDifficulty(method: string, params: unknown[], after: After): boolean {
    const suggested = params[0];
    try {
      parseDifficulty(suggested);
    } catch (err) {
      throw new StratumError(StratumCode.OTHER, `${method.slice('mining.'.length)}: ${(err as ProtocolError).detail}`);
    }
    this.requestDifficulty(Number(suggested), after);
    return true;
  }

  /** A difficulty the miner asks for: a change mints this session a job (session-difficulty.ts bounds how often). */
  private requestDifficulty(difficulty: Difficulty, after: After): void {
    // Before authorize there is nothing to re-send: the first set_difficulty will carry it.
    const outcome = this.difficulties.request(difficulty, this.ctx.now(), this.jobsFlowing);
    if (outcome === 'refused') {
      this.ctx.onLimitHit(this, 'suggest_rate');
      throw new StratumError(StratumCode.OTHER, `difficulty requests may change the difficulty once every ${this.ctx.limits.suggestIntervalSeconds} s`);
    }
    if (outcome === 'changed' && this.jobsFlowing) after.then = () => this.sendDifficultyAndJob();
  }

  private async submit(params: unknown[], after: After): Promise<boolean> {
    if (!this.extranonce1) return this.reject(StratumCode.NOT_SUBSCRIBED, 'not subscribed');
    let submission: ShareSubmission;
    try {
      submission = parseSubmitParams(params);
    } catch (err) {
      return this.reject(StratumCode.OTHER, (err as ProtocolError).message);
    }
    const identity = this.workers.get(submission.worker);
    if (!identity) return this.reject(StratumCode.UNAUTHORIZED, 'unauthorized worker');
    const check = this.ctx.jobs.check(submission.jobId);
    if (!check.ok) return this.reject(StratumCode.JOB_NOT_FOUND, check.reason);
    const job = check.job;
    if (submission.extranonce2.length !== this.extranonce2Size) {
      return this.reject(StratumCode.OTHER, `extranonce2 must be ${this.extranonce2Size} bytes`);
    }
    const ntimeMin = job.template.ntime;
    if (submission.ntime < ntimeMin || submission.ntime > ntimeMin + this.ctx.ntimeRollSeconds) return this.reject(StratumCode.OTHER, 'ntime out of range');
    if (submission.versionBits !== undefined && this.versionMask === 0) return this.reject(StratumCode.OTHER, 'version rolling was not negotiated');

    const sent = this.difficulties.of(job.id);
    const difficulty = sent.difficulty;
    let share;
    try {
      share = verifyShare(
        { job: job.stratum, extranonce1: this.extranonce1, versionMask: this.versionMask, difficulty, shareTarget: sent.target, merkleRoot: this.merkleRoot(job, submission.extranonce2) },
        submission,
      );
    } catch (err) {
      if (err instanceof ProtocolError) return this.reject(StratumCode.OTHER, err.message);
      throw err;
    }
    if (!share.meetsDifficulty) return this.reject(StratumCode.LOW_DIFFICULTY, `low difficulty share (${share.shareDifficulty.toPrecision(4)} < ${difficulty})`);
    if (!this.ctx.jobs.markSeen(job, share.hash)) return this.reject(StratumCode.DUPLICATE, 'duplicate share');

    const nowMs = this.ctx.now();
    let recorded: boolean;
    try {
      recorded = await this.ctx.ledger.appendShare({
        member: identity.member,
        worker: identity.worker,
        sessionId: this.connection.id,
        jobId: job.id,
        difficulty,
        work: difficultyToWork(difficulty),
        hash: share.hash,
        acceptedAtMs: nowMs,
        shareKey: share.hash,
        proof: shareProofText(job.auditKey, this.extranonce1, submission, this.versionMask),
      });
    } catch (err) {
      // Not durable, so not acknowledged: the miner's share is refused rather than lost silently.
      this.ctx.log.error({ err, session: this.connection.id }, 'ledger write failed; share not acknowledged');
      this.ctx.jobs.forgetSeen(job, share.hash);
      // The cause (database is locked, database or disk is full...) goes to /healthz, not to the miner.
      this.ctx.onShareRejected(this, `ledger unavailable: ${err instanceof Error ? err.message : String(err)}`, 'pool');
      throw new StratumError(StratumCode.OTHER, 'share not recorded: the pool ledger is unavailable, try again');
    }
    if (!recorded) return this.reject(StratumCode.DUPLICATE, 'duplicate share');

    this.ctx.onShareAccepted(this, { identity, difficulty, hash: share.hash, shareDifficulty: share.shareDifficulty, nowMs });
    this.ctx.forward(job, {
      extranonce: concatBytes(this.extranonce1, submission.extranonce2),
      ntime: submission.ntime,
      nonce: submission.nonce,
      header: share.header,
      hash: share.hash,
      hashValue: share.hashValue,
      isBlock: share.meetsNetworkTarget,
      member: identity.member,
    });
    let retargeted = this.difficulties.onShare(job.id, nowMs) !== undefined;
    // Over its address's row budget: a higher floor, so the same work comes in fewer rows.
    const raise = this.ctx.rowBudget?.(this, nowMs);
    if (raise !== undefined && raise.serial > this.appliedRaise) {
      this.appliedRaise = raise.serial;
      this.ctx.onLimitHit(this, 'row_budget');
      if (this.difficulties.raiseBy(raise.factor, nowMs)) retargeted = true;
    }
    if (retargeted) after.then = () => this.sendDifficultyAndJob();
    return true;
  }

  private reject(code: StratumCode, reason: string): never {
    this.ctx.onShareRejected(this, reason, shareFault(code));
    throw new StratumError(code, reason);
  }

  private merkleRoot(job: Job, extranonce2: Uint8Array): Uint8Array {
    this.merkleRoots ??= new MerkleRootCache(this.extranonce2Size);
    return this.merkleRoots.root(job.merkleKey, extranonce2, () => shareMerkleRoot(job.stratum, this.extranonce1!, extranonce2));
  }

  /**
   * set_difficulty, then a job: Stratum applies a new difficulty from the next notify on, so after
   * a change the current work goes out again under a new job id, with a later ntime so that its
   * header differs from the work the miner has (see JobManager.derive).
   */
  private sendDifficultyAndJob(changed = true): void {
    this.connection.send(encodeNotification('mining.set_difficulty', [this.difficulties.current]));
    this.ctx.onDifficultySent?.(this.difficulties.current);
    const current = this.ctx.jobs.current;
    if (current) this.sendJob(changed ? this.ctx.jobs.derive(current, this.retargetNtime(current), this.difficulties.current) : current);
  }

  /**
   * The wall clock's second, and past the last job's, within the first half of the ntime window
   * (the miner may roll ntime further itself). With --ntime-roll-seconds 0 there is no room, and
   * the job keeps its ntime.
   */
  private retargetNtime(job: Job): number {
    const earliest = job.template.ntime;
    const latest = earliest + Math.floor(this.ctx.ntimeRollSeconds / 2);
    return Math.min(Math.max(earliest, Math.floor(this.ctx.now() / 1000), this.lastNtime + 1), latest);
  }
}

/**
 * Stale, low-difficulty and duplicate shares are what an honest miner gets after a new block or a
 * retarget (or a reconnect): forgiven up to a rate. Anything else no honest miner sends.
 */
function shareFault(code: StratumCode): ShareFault {
  switch (code) {
    case StratumCode.JOB_NOT_FOUND:
    case StratumCode.LOW_DIFFICULTY:
    case StratumCode.DUPLICATE:
      return 'honest reject';
    case StratumCode.UNAUTHORIZED:
    case StratumCode.NOT_SUBSCRIBED:
      return 'unauthorized';
    default:
      return 'invalid share';
  }
}

/**
 * A job's mining.notify, encoded once: a broadcast sends the same text to every session, and
 * encoding it 20,000 times was a tenth of a second of the event loop and megabytes of garbage.
 */
const notifyTexts = new WeakMap<Job, string>();
function notifyText(job: Job): string {
  let text = notifyTexts.get(job);
  if (text === undefined) notifyTexts.set(job, (text = encodeNotification('mining.notify', job.notifyParams)));
  return text;
}

