import { isIP, type BlockList } from 'node:net';
import { inBlockList } from './cidr.js';
import { normalizeIp } from './client-key.js';

/**
 * The client's address of an HTTP request or WebSocket upgrade. Only a TCP peer in `trusted` (a
 * load balancer the operator named with --trusted-proxy) may speak for someone else: then the
 * X-Forwarded-For hops are read from the right (each proxy appends the address it saw), trusted
 * hops skipped, and the first untrusted one is the client. Anything to its left was written by the
 * client itself and is ignored. A hop that is no address ends the walk at the last trusted hop:
 * whoever wrote it is not to be believed.
 */
export function forwardedClient(peer: string | undefined, header: string | string[] | undefined, trusted: BlockList): string {
  const peerIp = normalizeIp(peer);
  if (header === undefined || !inBlockList(trusted, peerIp)) return peerIp;
  const hops = (Array.isArray(header) ? header.join(',') : header).split(',').map((hop) => hop.trim()).filter((hop) => hop !== '');
  let client = peerIp;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hopAddress(hops[i]!);
    if (hop === undefined) return client;
    client = hop;
    if (!inBlockList(trusted, hop)) return hop;
  }
  return client;
}

/** One X-Forwarded-For entry as an address: "a.b.c.d", "a.b.c.d:port", "v6" or "[v6]:port"; else undefined. */
export function hopAddress(hop: string): string | undefined {
  let text = hop;
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(text);
  if (bracketed) text = bracketed[1]!;
  else if (/^\d{1,3}(\.\d{1,3}){3}:\d{1,5}$/.test(text)) text = text.slice(0, text.lastIndexOf(':'));
  return isIP(text) === 0 ? undefined : normalizeIp(text);
}
