// Whom an HTTP request is from, for per-address quotas: the TCP peer, or, when that peer is a load
// balancer named with --trusted-proxy, the client its X-Forwarded-For names; keyed as every other
// per-address limit is (IPv6 on its /64).
import type { BlockList } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { cidrBlockList } from '../cidr.js';
import { clientKey } from '../client-key.js';
import type { GatewayConfig } from '../config.js';
import { forwardedClient } from '../forwarded-for.js';

const trustedLists = new WeakMap<GatewayConfig, BlockList>();

export function requestClientKey(config: GatewayConfig, req: IncomingMessage): string {
  let trusted = trustedLists.get(config);
  if (!trusted) {
    trusted = cidrBlockList(config.trustedProxy);
    trustedLists.set(config, trusted);
  }
  return clientKey(forwardedClient(req.socket.remoteAddress, req.headers['x-forwarded-for'], trusted));
}
