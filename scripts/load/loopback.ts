// The load generator only ever talks to this machine: thousands of connections and thousands of
// shares a second at a remote host would be an attack, not a benchmark.
import { isIP } from 'node:net';

export class NotLoopbackError extends Error {
  override readonly name = 'NotLoopbackError';
}

/** True for localhost, 127.0.0.0/8 and ::1 (with or without the URL's brackets). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost') return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || bare === '0:0:0:0:0:0:0:1';
  return false;
}

/**
 * The host and port of a gateway URL, refused unless it is loopback. `localhost` becomes
 * 127.0.0.1: it may resolve to ::1 first, and the source addresses below are IPv4.
 */
export function loopbackEndpoint(text: string, protocols: string[], what: string): { host: string; port: number } {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new NotLoopbackError(`${what}: "${text}" is not a URL (expected ${protocols.map((p) => `${p}//127.0.0.1:PORT`).join(' or ')})`);
  }
  if (!protocols.includes(url.protocol)) throw new NotLoopbackError(`${what}: the scheme must be ${protocols.join(' or ')}, not ${url.protocol}`);
  if (!isLoopbackHost(url.hostname)) {
    throw new NotLoopbackError(`${what}: ${url.hostname} is not a loopback address; the load generator only runs against this machine (127.0.0.1, localhost or ::1)`);
  }
  if (!url.port) throw new NotLoopbackError(`${what}: "${text}" needs a port`);
  const host = url.hostname === 'localhost' ? '127.0.0.1' : url.hostname.replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(url.port) };
}

/**
 * `count` distinct source addresses for connections to `host`. Every 127.x.y.z is this machine
 * on Linux, and each source address has its own ~28k ephemeral ports and its own per-IP cap at
 * the gateway. IPv6 has one loopback address, so ::1 gets just that one. `offset` skips the first
 * addresses (another process of the same load holds them).
 */
export function sourceAddresses(host: string, count: number, offset = 0): (string | undefined)[] {
  if (isIP(host) !== 4) return [undefined];
  // .0 and .255 are skipped: valid on lo, but they read like network and broadcast addresses.
  return Array.from({ length: Math.max(1, count) }, (_, n) => {
    const i = n + offset;
    return `127.0.${Math.floor(i / 254)}.${(i % 254) + 1}`;
  });
}
