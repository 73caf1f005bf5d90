import { BlockList, isIP } from 'node:net';

/**
 * Address ranges as operators write them: IPv4 and IPv6 CIDRs, a bare address being one host.
 * Matching is node:net's BlockList.
 */

/** A comma-separated list of CIDRs, each checked; throws saying what is wrong with the first bad one. */
export function parseCidrList(text: string): string[] {
  const cidrs = text.split(',').map((part) => part.trim()).filter((part) => part !== '');
  for (const cidr of cidrs) {
    const [address, prefix, extra] = cidr.split('/');
    const family = isIP(address!);
    if (family === 0 || extra !== undefined) throw new Error(`"${cidr}" is not a CIDR: expected ADDRESS/PREFIX such as 203.0.113.0/24 or 2001:db8::/32`);
    if (prefix !== undefined && (!/^\d{1,3}$/.test(prefix) || Number(prefix) > hostBits(family))) {
      throw new Error(`"${cidr}": the prefix length of an IPv${family} range must be a whole number 0..${hostBits(family)}`);
    }
  }
  return cidrs;
}

/** A BlockList of CIDRs that parseCidrList accepted. */
export function cidrBlockList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address, prefix] = cidr.split('/') as [string, string | undefined];
    const family = isIP(address);
    list.addSubnet(address, prefix === undefined ? hostBits(family) : Number(prefix), family === 6 ? 'ipv6' : 'ipv4');
  }
  return list;
}

/** Whether `ip` (as a socket reports it) is in `list`; false for what is no IP address. */
export function inBlockList(list: BlockList, ip: string): boolean {
  const family = isIP(ip);
  return family !== 0 && list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
}

function hostBits(family: number): number {
  return family === 6 ? 128 : 32;
}
