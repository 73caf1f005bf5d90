import { auditJobKey, type AuditJob } from '../../protocol/dao/audit-bundle.js';
import { bytesToHex, equalBytes, u32ToHex } from '../../protocol/hex.js';
import { prevhashToStratum, type StratumJob } from '../../protocol/stratum-job.js';
import { DigestSet } from './digest-set.js';
import type { WorkTemplate } from './work-source.js';

/**
 * A job as the gateway issued it: a template under a job id. Jobs made from the same template
 * (refreshes, a session's re-notify after a difficulty change) share one generation, and with it
 * one set of the hashes already submitted, so the same work is never credited twice.
 */
export interface Job {
  id: string;
  template: WorkTemplate;
  generation: Generation;
  createdAtMs: number;
  /** The mining.notify params (the same for every session; clean_jobs as sent first). */
  notifyParams: unknown[];
  /** The job as the share verifier reads it (protocol/share.ts). */
  stratum: StratumJob;
  /**
   * Shared by every job whose coinbase parts and merkle branch are byte for byte the same (a
   * refresh that only moved ntime): a session's merkle roots depend on nothing else, so they are
   * cached under this key and survive the refresh instead of being rebuilt by 20,000 sessions.
   */
  merkleKey: object;
  /** auditJobKey() of the job's data: what its shares' proofs reference in the ledger (derived jobs share it). */
  auditKey: string;
}

export interface Generation {
  serial: number;
  prevhashHex: string;
  /**
   * When a newer template of the same block replaced this one: its jobs stay valid for the
   * grace period after (a miner may keep a job that is not clean for a minute or more).
   */
  supersededAtMs: number | undefined;
  /** Hashes of shares accepted for this generation's jobs. */
  seenHashes: DigestSet;
}

export interface JobManagerOptions {
  /**
   * How long jobs of a replaced template of the current block are still accepted. A clean job (a
   * new previous block) ends them all at once: only work on an older block is stale.
   */
  staleGraceMs: number;
  /** A job is re-issued under a new id when the source sent nothing for this long. */
  refreshIntervalMs: number;
}

export type JobCheck = { ok: true; job: Job } | { ok: false; reason: 'job not found' | 'stale job' };

/** Ids are short hex counters; the gateway's start time keeps them unique across restarts. */
export class JobManager {
  private readonly jobs = new Map<string, Job>();
  /** Derived jobs by parent, then `ntime/difficulty`: a parent that is dropped takes its cache along. */
  private readonly derivedJobs = new WeakMap<Job, Map<string, Job>>();
  private readonly generations: Generation[] = [];
  private currentJob: Job | undefined;
  private nextId: number;
  private listeners: ((job: Job) => void)[] = [];
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly options: JobManagerOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.nextId = (Math.floor(now() / 1000) & 0xffff) << 16;
  }

  get current(): Job | undefined {
    return this.currentJob;
  }

  onJob(listener: (job: Job) => void): void {
    this.listeners.push(listener);
  }

  /** A new template from the work source: a new generation, broadcast to every session. */
  accept(template: WorkTemplate): Job {
    const nowMs = this.now();
    const prevhashHex = bytesToHex(template.prevhash);
    const clean = template.cleanJobs || prevhashHex !== this.currentJob?.generation.prevhashHex;
    for (const g of this.generations) g.supersededAtMs ??= nowMs;
    const generation: Generation = { serial: this.generations.length, prevhashHex, supersededAtMs: undefined, seenHashes: new DigestSet() };
    if (clean) {
      // A new previous block makes all earlier work worthless at once.
      for (const job of this.jobs.values()) this.jobs.delete(job.id);
      for (const g of this.generations) g.seenHashes.release();
      this.generations.length = 0;
    }
    this.generations.push(generation);
    const job = this.issue(template, generation, clean);
    this.broadcast(job);
    this.prune(nowMs);
    this.scheduleRefresh();
    return job;
  }

  /**
   * The current work under a new id and a new ntime, for one session's re-notify after
   * set_difficulty. The header must differ from the job the session has: a miner switches work
   * only when the header changes (cpuminer compares the first 76 bytes), and would otherwise go on
   * mining the old job at the old difficulty. It shares the parent's coinbase and merkle branch
   * (and with them the session's cached merkle roots), so thousands of retargets cost little.
   */
  derive(job: Job, ntime: number = job.stratum.ntime, difficulty?: number): Job {
    // One derived job per (job, ntime, difficulty), shared by every session and change that asks
    // for it: a flood of alternating difficulty requests minted a job per message (+80 MB, issue 13).
    const key = `${ntime}/${difficulty ?? ''}`;
    let derivedOf = this.derivedJobs.get(job);
    const cached = derivedOf?.get(key);
    if (cached !== undefined && this.jobs.get(cached.id) === cached) return cached;
    const id = this.newId();
    const derived: Job = {
      ...job,
      id,
      createdAtMs: this.now(),
      stratum: { ...job.stratum, jobId: id, ntime, cleanJobs: false },
      notifyParams: [id, ...job.notifyParams.slice(1, 7), u32ToHex(ntime), false],
    };
    this.jobs.set(id, derived);
    if (derivedOf === undefined) this.derivedJobs.set(job, (derivedOf = new Map()));
    derivedOf.set(key, derived);
    return derived;
  }

  /** Jobs that can still be submitted to (issued and derived): what /metrics shows as dao_gateway_jobs. */
  get size(): number {
    return this.jobs.size;
  }

  get(jobId: string): Job | undefined {
    return this.jobs.get(jobId);
  }

  /** Whether a submitted job id may still be credited now. */
  check(jobId: string): JobCheck {
    const job = this.jobs.get(jobId);
    if (!job) return { ok: false, reason: 'job not found' };
    const superseded = job.generation.supersededAtMs;
    if (superseded !== undefined && this.now() - superseded > this.options.staleGraceMs) return { ok: false, reason: 'stale job' };
    return { ok: true, job };
  }

  /** Records a share's hash; false when the same work was already submitted for a live generation. */
  markSeen(job: Job, hash: string): boolean {
    for (const g of this.generations) if (g.prevhashHex === job.generation.prevhashHex && g.seenHashes.has(hash)) return false;
    job.generation.seenHashes.add(hash);
    return true;
  }

  /** Forgets a share's hash whose ledger write failed: the miner was told to try again, so its retry is new. */
  forgetSeen(job: Job, hash: string): void {
    job.generation.seenHashes.delete(hash);
  }

  stop(): void {
    clearTimeout(this.refreshTimer);
  }

  private newId(): string {
    return (this.nextId++ >>> 0).toString(16);
  }

  private issue(template: WorkTemplate, generation: Generation, clean: boolean): Job {
    const id = this.newId();
    const previous = this.currentJob;
    const job: Job = {
      id,
      template,
      auditKey: auditJobKey(auditJobOf(template)),
      generation,
      merkleKey: previous !== undefined && sameMerkleInputs(previous.template, template) ? previous.merkleKey : {},
      createdAtMs: this.now(),
      stratum: {
        jobId: id,
        prevhash: template.prevhash,
        coinb1: template.coinb1,
        coinb2: template.coinb2,
        merkleBranch: template.merkleBranch,
        version: template.version,
        bits: template.bits,
        ntime: template.ntime,
        cleanJobs: clean,
      },
      notifyParams: [
        id,
        prevhashToStratum(template.prevhash),
        bytesToHex(template.coinb1),
        bytesToHex(template.coinb2),
        template.merkleBranch.map(bytesToHex),
        u32ToHex(template.version),
        u32ToHex(template.bits),
        u32ToHex(template.ntime),
        clean,
      ],
    };
    this.jobs.set(id, job);
    this.currentJob = job;
    return job;
  }

  private broadcast(job: Job): void {
    for (const listener of this.listeners) listener(job);
  }

  /** Drops generations (and their jobs and hash sets) past their grace period. */
  private prune(nowMs: number): void {
    const expired = this.generations.filter((g) => g.supersededAtMs !== undefined && nowMs - g.supersededAtMs > this.options.staleGraceMs);
    if (expired.length === 0) return;
    for (const job of this.jobs.values()) if (expired.includes(job.generation)) this.jobs.delete(job.id);
    // Their tables go to the next templates' sets (digest-set.ts): nothing for the collector.
    for (const g of expired) g.seenHashes.release();
    this.generations.splice(0, this.generations.length, ...this.generations.filter((g) => !expired.includes(g)));
  }

  /** Some miners stop hashing after 120 s without a new job id: re-issue before that. */
  private scheduleRefresh(): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => {
      const job = this.currentJob;
      if (!job) return;
      this.accept({ ...job.template, cleanJobs: false });
    }, this.options.refreshIntervalMs);
    this.refreshTimer.unref();
  }
}

/** The job data an audit bundle re-verifies shares with (protocol/dao/audit-bundle.ts). */
export function auditJobOf(template: WorkTemplate): AuditJob {
  return {
    prevhash: bytesToHex(template.prevhash),
    coinb1: bytesToHex(template.coinb1),
    coinb2: bytesToHex(template.coinb2),
    merkleBranch: template.merkleBranch.map(bytesToHex),
    version: template.version,
    nbits: template.bits,
  };
}

/** Whether two templates give every (extranonce1, extranonce2) the same merkle root. */
function sameMerkleInputs(a: WorkTemplate, b: WorkTemplate): boolean {
  return (
    equalBytes(a.coinb1, b.coinb1) &&
    equalBytes(a.coinb2, b.coinb2) &&
    a.merkleBranch.length === b.merkleBranch.length &&
    a.merkleBranch.every((hash, i) => equalBytes(hash, b.merkleBranch[i]!))
  );
}
