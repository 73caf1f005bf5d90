// What the relayer lets members and visitors spend of the DAO's gas: relay POSTs per client address
// and accepted requests per member per hour (429), and wei per rolling 24 h measured from receipts
// (503 with Retry-After while spent). In memory: only the settlement leader sends, and a restart
// forgets at most a day of spending, which the budget's size allows for.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { RelayerLimitsConfig } from '../config/relayer.js';
import { HttpError } from '../http/respond.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Past this many tracked keys, windows that hold nothing recent are dropped. */
const MAX_TRACKED_KEYS = 10_000;

/** Timestamps per key within a sliding window. */
class SlidingCounts {
  private readonly hits = new Map<string, number[]>();
  constructor(private readonly windowMs: number) {}

  count(key: string, nowMs: number): number {
    const list = this.prune(key, nowMs);
    return list.length;
  }

  add(key: string, nowMs: number): void {
    if (this.hits.size > MAX_TRACKED_KEYS) for (const k of [...this.hits.keys()]) if (this.prune(k, nowMs).length === 0) this.hits.delete(k);
    const list = this.prune(key, nowMs);
    list.push(nowMs);
    this.hits.set(key, list);
  }

  /** When the oldest hit of `key` leaves the window. */
  freeAtMs(key: string, nowMs: number): number {
    return (this.prune(key, nowMs)[0] ?? nowMs) + this.windowMs;
  }

  private prune(key: string, nowMs: number): number[] {
    const list = this.hits.get(key) ?? [];
    while (list.length && list[0]! <= nowMs - this.windowMs) list.shift();
    return list;
  }
}

export class RelayLimits {
  private readonly perIp = new SlidingCounts(HOUR_MS);
  private readonly perMember = new SlidingCounts(HOUR_MS);
  private readonly spends: { atMs: number; wei: bigint }[] = [];
  readonly minClaimWei: bigint;
  private budgetWeiPerDay: bigint;
  private readonly refused: Counter<'reason'>;
  private readonly gasSpent: Counter;
  private readonly budgetLeft: Gauge;

  constructor(
    private readonly config: RelayerLimitsConfig,
    registry?: Registry,
    private readonly now: () => number = Date.now,
  ) {
    this.minClaimWei = BigInt(config.relayMinClaimWei);
    this.budgetWeiPerDay = BigInt(config.relayGasBudgetWeiPerDay);
    const registers = registry ? [registry] : [];
    this.refused = new Counter({ name: 'dao_gateway_relay_refused_total', help: 'Relay requests refused by a limit (ip_quota, member_quota, dust, gas_budget)', labelNames: ['reason'], registers });
    this.gasSpent = new Counter({ name: 'dao_gateway_relay_gas_spent_wei_total', help: 'Wei the relayer paid in gas (from receipts)', registers });
    this.budgetLeft = new Gauge({ name: 'dao_gateway_relay_gas_budget_left_wei', help: 'Wei left of the relayer gas budget in the last 24 h', registers, collect: () => this.budgetLeft.set(Number(this.leftWei())) });
  }

  /** Counts one relay POST from `ip`; 429 past relayPerIpPerHour. */
  admitIp(ip: string): void {
    const now = this.now();
    if (this.perIp.count(ip, now) >= this.config.relayPerIpPerHour) {
      this.refused.inc({ reason: 'ip_quota' });
      throw quota(`this address has made ${this.config.relayPerIpPerHour} relay requests in the last hour (the limit)`, this.perIp.freeAtMs(ip, now) - now);
    }
    this.perIp.add(ip, now);
  }

  /** 429 when `account` already had relayPerMemberPerHour requests accepted this hour (checked after its signature). */
  admitMember(account: string): void {
    const now = this.now();
    const key = account.toLowerCase();
    if (this.perMember.count(key, now) >= this.config.relayPerMemberPerHour) {
      this.refused.inc({ reason: 'member_quota' });
      throw quota(`${account} has had ${this.config.relayPerMemberPerHour} requests relayed in the last hour (the limit); send it from your own wallet, or wait`, this.perMember.freeAtMs(key, now) - now);
    }
  }

  /** An accepted request counts against its member's quota. */
  accepted(account: string): void {
    this.perMember.add(account.toLowerCase(), this.now());
  }

  /** 422 for a claim the DAO should not pay gas for. */
  checkClaimAmount(account: string, amount: bigint): void {
    if (amount >= this.minClaimWei) return;
    this.refused.inc({ reason: 'dust' });
    throw new HttpError(
      422,
      `claim of ${amount} (token base units) for ${account} is below the relayer's minimum of ${this.minClaimWei}: the gas would cost the DAO more than it pays; claim it from your own wallet (it pays the gas), or wait until it grows`,
    );
  }

  /** Changes the budget while running (tests, and operator tooling that tops it up). */
  setBudgetWeiPerDay(wei: bigint): void {
    this.budgetWeiPerDay = wei;
  }

  /** Wei spent in the last 24 h. */
  spentWei(): bigint {
    this.pruneSpends();
    return this.spends.reduce((sum, s) => sum + s.wei, 0n);
  }

  /** Records what a receipt cost (gasUsed × effective gas price). */
  spent(wei: bigint): void {
    this.spends.push({ atMs: this.now(), wei });
    this.gasSpent.inc(Number(wei));
  }

  leftWei(): bigint {
    this.pruneSpends();
    const used = this.spends.reduce((sum, s) => sum + s.wei, 0n);
    return used >= this.budgetWeiPerDay ? 0n : this.budgetWeiPerDay - used;
  }

  /** Seconds until enough spending leaves the 24 h window; undefined while budget is left. */
  pausedForSeconds(): number | undefined {
    if (this.leftWei() > 0n) return undefined;
    let used = this.spends.reduce((sum, s) => sum + s.wei, 0n);
    for (const s of this.spends) {
      used -= s.wei;
      if (used < this.budgetWeiPerDay) return Math.max(1, Math.ceil((s.atMs + DAY_MS - this.now()) / 1000));
    }
    return 1;
  }

  /** 503 with Retry-After while the gas budget is spent. */
  checkBudget(): void {
    const seconds = this.pausedForSeconds();
    if (seconds === undefined) return;
    this.refused.inc({ reason: 'gas_budget' });
    throw new HttpError(503, this.problem()!, { 'retry-after': String(seconds) });
  }

  /** For /healthz: why relaying is paused, or undefined. */
  problem(): string | undefined {
    const seconds = this.pausedForSeconds();
    if (seconds === undefined) return undefined;
    return `relaying paused: the gas budget of ${this.budgetWeiPerDay} wei per 24 h is spent; it resumes in ${seconds} s (send from your own wallet meanwhile)`;
  }

  private pruneSpends(): void {
    const cutoff = this.now() - DAY_MS;
    while (this.spends.length && this.spends[0]!.atMs <= cutoff) this.spends.shift();
  }
}

function quota(message: string, waitMs: number): HttpError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new HttpError(429, `${message}; try again in ${seconds} s`, { 'retry-after': String(seconds) });
}
