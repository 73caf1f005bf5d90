import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { cidrBlockList } from './cidr.js';
import type { Closer } from './closer.js';
import type { NetworkConfig } from './config/network.js';
import type { GatewayConfig } from './config.js';
import type { GatewayView } from './gateway-view.js';
import { createRequestHandler } from './http/api.js';
import { guardHttpConnections } from './http/connection-guard.js';
import { createTcpTransport } from './stratum/tcp-transport.js';
import { attachWsTransport } from './stratum/ws-transport.js';

type ListenConfig = Pick<GatewayConfig, 'host' | 'httpPort' | 'stratumPort' | 'maxMessageBytes' | 'idleTimeoutMs' | 'wsPingIntervalMs' | 'banExempt' | keyof NetworkConfig>;

/**
 * Opens the gateway's two ports: HTTP (the API, the web app and WebSocket Stratum at /stratum)
 * and TCP Stratum. Their close goes on `closer` before they listen, so a port that is taken
 * leaves neither open.
 */
export async function listenForMiners(view: GatewayView, config: ListenConfig, closer: Closer): Promise<{ httpPort: number; stratumPort: number }> {
  const { hub } = view;
  const trustedProxy = cidrBlockList(config.trustedProxy);
  // Node checks its header and request timeouts on this interval (30 s by default): a Slowloris
  // socket would outlive its timeout by up to that much.
  const checkingIntervalMs = Math.max(100, Math.min(1_000, Math.floor(config.httpHeadersTimeoutMs / 4)));
  const http = createServer({ connectionsCheckingInterval: checkingIntervalMs }, createRequestHandler(view));
  guardHttpConnections(http, config, [trustedProxy, cidrBlockList(config.banExempt)], view.metrics, view.log);
  attachWsTransport(http, hub, { path: '/stratum', maxMessageBytes: config.maxMessageBytes, idleTimeoutMs: config.idleTimeoutMs, pingIntervalMs: config.wsPingIntervalMs, trustedProxy });
  const tcp = createTcpTransport(hub, {
    maxMessageBytes: config.maxMessageBytes,
    idleTimeoutMs: config.idleTimeoutMs,
    trustedProxy,
    proxyHeaderTimeoutMs: config.proxyHeaderTimeoutMs,
    onProxyHeaderRejected: (reason) => view.metrics.proxyHeadersRejected.inc({ reason }),
    log: view.log,
  });
  closer.push(async () => {
    // A server closes once its connections have: the sessions go first.
    for (const session of hub.sessions.values()) session.connection.close('gateway shutting down');
    http.closeAllConnections?.();
    await Promise.all([closeServer(http), closeServer(tcp)]);
  });
  await listen(http, config.httpPort, config.host);
  await listen(tcp, config.stratumPort, config.host);
  return { httpPort: (http.address() as AddressInfo).port, stratumPort: (tcp.address() as AddressInfo).port };
}

function listen(server: HttpServer | NetServer, port: number, host: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
}

function closeServer(server: HttpServer | NetServer): Promise<void> {
  return new Promise((resolvePromise) => server.close(() => resolvePromise()));
}
