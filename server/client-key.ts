import { isIP } from 'node:net';

/**
 * The key every per-address limit counts under (bans, connection caps). An IPv4 address is itself;
 * an IPv6 address is its /64, since one subscriber gets a whole /64 and may pick any of its 2^64
 * addresses for each connection; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 one.
 * Whatever is no IP address keys as itself (a Unix socket, 'unknown').
 */
export function clientKey(address: string): string {
  const plain = stripZone(address);
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(plain);
  if (mapped && isIP(mapped[1]!) === 4) return mapped[1]!;
  const family = isIP(plain);
  if (family !== 6) return family === 4 ? plain : address;
  const groups = expandIpv6(plain);
  // ::ffff:0:0/96 written in hex groups (e.g. ::ffff:7f00:1) is IPv4 too.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.${groups[7]! & 0xff}`;
  }
  return `${groups.slice(0, 4).map((g) => g.toString(16)).join(':')}::/64`;
}

/** "::ffff:127.0.0.1" and "127.0.0.1" are the same client: the address as it is logged and shown. */
export function normalizeIp(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

function stripZone(address: string): string {
  const zone = address.indexOf('%');
  return zone === -1 ? address : address.slice(0, zone);
}

/** The eight 16-bit groups of an IPv6 address that isIP accepted (with :: and a dotted IPv4 tail). */
export function expandIpv6(address: string): number[] {
  let text = address;
  const dotted = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted[1]!.split('.').map(Number) as [number, number, number, number];
    text = text.slice(0, dotted.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const parse = (part: string | undefined) => (part ? part.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = parse(tail);
  const zeros = tail === undefined ? [] : new Array<number>(8 - left.length - right.length).fill(0);
  return [...left, ...zeros, ...right];
}
