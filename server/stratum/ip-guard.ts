/**
 * Per-IP protection: a cap on concurrent connections, and temporary bans for addresses that send
 * floods of invalid shares or malformed messages. One instance per gateway.
 */
export interface IpGuardOptions {
  maxConnectionsPerIp: number;
  /** Invalid shares or messages within the window that earn a ban... */
  maxInvalidPerWindow: number;
  windowMs: number;
  /** ...for this long. */
  banMs: number;
}

export class IpGuard {
  private readonly connections = new Map<string, number>();
  private readonly invalid = new Map<string, { count: number; windowStartMs: number }>();
  private readonly bans = new Map<string, number>();

  constructor(
    private readonly options: IpGuardOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** Why a new connection from `ip` is refused, or undefined to let it in (and count it). */
  admit(ip: string): string | undefined {
    const bannedUntil = this.bans.get(ip);
    if (bannedUntil !== undefined) {
      if (bannedUntil > this.now()) return `temporarily banned for ${Math.ceil((bannedUntil - this.now()) / 1000)} s after too many invalid messages`;
      this.bans.delete(ip);
    }
    const open = this.connections.get(ip) ?? 0;
    if (open >= this.options.maxConnectionsPerIp) return `too many connections from this address (limit ${this.options.maxConnectionsPerIp})`;
    this.connections.set(ip, open + 1);
    return undefined;
  }

  release(ip: string): void {
    const open = (this.connections.get(ip) ?? 1) - 1;
    if (open <= 0) this.connections.delete(ip);
    else this.connections.set(ip, open);
  }

  /** Counts one invalid share or message; returns true when the address is now banned. */
  strike(ip: string): boolean {
    const nowMs = this.now();
    let entry = this.invalid.get(ip);
    if (!entry || nowMs - entry.windowStartMs > this.options.windowMs) {
      entry = { count: 0, windowStartMs: nowMs };
      this.invalid.set(ip, entry);
    }
    entry.count++;
    if (entry.count < this.options.maxInvalidPerWindow) return false;
    this.bans.set(ip, nowMs + this.options.banMs);
    this.invalid.delete(ip);
    return true;
  }

  isBanned(ip: string): boolean {
    const until = this.bans.get(ip);
    return until !== undefined && until > this.now();
  }

  get bannedCount(): number {
    return [...this.bans.values()].filter((until) => until > this.now()).length;
  }
}
