import type { BlockList } from 'node:net';
import { cidrBlockList, inBlockList } from '../cidr.js';
import { clientKey } from '../client-key.js';

/**
 * Per-address protection: a cap on concurrent connections, and temporary bans for addresses whose
 * connections keep getting banned. A farm behind NAT or a proxy is one address, so one bad
 * connection never bans an address: only `connectionBansPerAddressBan` of them within `banMs`
 * do. Exempt ranges (known farms and proxies) are neither capped nor address-banned. One
 * instance per gateway. Everything is counted per clientKey: an IPv6 /64 is one address.
 */
export interface IpGuardOptions {
  maxConnectionsPerIp: number;
  /** Connections of one address banned within `banMs` that ban the address... */
  connectionBansPerAddressBan: number;
  /** ...for this long. */
  banMs: number;
  /** CIDR ranges (as config.ts checked them) exempt from address bans and the per-address cap. */
  exempt?: readonly string[];
}

export class IpGuard {
  private readonly connections = new Map<string, number>();
  /** When each recent connection ban of an address happened, oldest first. */
  private readonly connectionBans = new Map<string, number[]>();
  private readonly bans = new Map<string, number>();
  private readonly exempt: BlockList;

  constructor(
    private readonly options: IpGuardOptions,
    private readonly now: () => number = Date.now,
  ) {
    this.exempt = cidrBlockList(options.exempt ?? []);
  }

  /** Why a new connection from `ip` is refused, or undefined to let it in (and count it). */
  admit(address: string): string | undefined {
    if (this.isExempt(address)) return undefined;
    const ip = clientKey(address);
    const bannedUntil = this.bans.get(ip);
    if (bannedUntil !== undefined) {
      if (bannedUntil > this.now()) return `temporarily banned for ${Math.ceil((bannedUntil - this.now()) / 1000)} s after repeated abuse from this address`;
      this.bans.delete(ip);
    }
    const open = this.connections.get(ip) ?? 0;
    if (open >= this.options.maxConnectionsPerIp) return `too many connections from this address (limit ${this.options.maxConnectionsPerIp})`;
    this.connections.set(ip, open + 1);
    return undefined;
  }

  /** A connection admitted from `ip` ended. */
  release(address: string): void {
    if (this.isExempt(address)) return;
    const ip = clientKey(address);
    const open = (this.connections.get(ip) ?? 1) - 1;
    if (open <= 0) this.connections.delete(ip);
    else this.connections.set(ip, open);
  }

  /** One connection from `ip` was banned; returns true when that bans the address too. */
  connectionBanned(address: string): boolean {
    if (this.isExempt(address)) return false;
    const ip = clientKey(address);
    const nowMs = this.now();
    const recent = (this.connectionBans.get(ip) ?? []).filter((atMs) => nowMs - atMs < this.options.banMs);
    recent.push(nowMs);
    if (recent.length < this.options.connectionBansPerAddressBan) {
      this.connectionBans.set(ip, recent);
      return false;
    }
    this.connectionBans.delete(ip);
    this.bans.set(ip, nowMs + this.options.banMs);
    return true;
  }

  /** Forgets lapsed bans and old connection bans, so the maps hold only what still counts. */
  sweep(): void {
    const nowMs = this.now();
    for (const [ip, until] of this.bans) if (until <= nowMs) this.bans.delete(ip);
    for (const [ip, times] of this.connectionBans) if (nowMs - times[times.length - 1]! >= this.options.banMs) this.connectionBans.delete(ip);
  }

  isBanned(address: string): boolean {
    const until = this.bans.get(clientKey(address));
    return until !== undefined && until > this.now();
  }

  isExempt(ip: string): boolean {
    return inBlockList(this.exempt, ip);
  }
}
