import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { BlockList, Socket } from 'node:net';
import type { Logger } from 'pino';
import { inBlockList } from '../cidr.js';
import { clientKey, normalizeIp } from '../client-key.js';
import type { NetworkConfig } from '../config/network.js';
import type { Metrics } from '../metrics.js';

/**
 * Slowloris protection for the HTTP port (issue 13 item 3): timeouts for headers, the whole
 * request and idle sockets, and a cap on open connections per client key counted on 'connection',
 * before a byte of a request (or a WebSocket upgrade) is read. The cap counts TCP peers: a trusted
 * proxy and exempt ranges carry many clients and are not capped here (the Stratum guard still caps
 * the clients they name).
 */
export function guardHttpConnections(
  http: HttpServer,
  config: Pick<NetworkConfig, 'httpHeadersTimeoutMs' | 'httpRequestTimeoutMs' | 'httpIdleTimeoutMs' | 'httpKeepAliveTimeoutMs' | 'maxHttpConnectionsPerIp'>,
  uncapped: readonly BlockList[],
  metrics: Metrics,
  log: Logger,
): void {
  http.headersTimeout = config.httpHeadersTimeoutMs;
  http.requestTimeout = Math.max(config.httpRequestTimeoutMs, config.httpHeadersTimeoutMs);
  http.keepAliveTimeout = config.httpKeepAliveTimeoutMs;
  // The idle timeout ends with the upgrade: ws sets a WebSocket's socket timeout to 0.
  http.setTimeout(config.httpIdleTimeoutMs, (socket: Socket) => {
    metrics.httpTimeouts.inc({ kind: 'idle' });
    socket.destroy();
  });

  const open = new Map<string, number>();
  http.on('connection', (socket: Socket) => {
    const peer = normalizeIp(socket.remoteAddress);
    if (uncapped.some((list) => inBlockList(list, peer))) return;
    const key = clientKey(peer);
    const count = (open.get(key) ?? 0) + 1;
    if (count > config.maxHttpConnectionsPerIp) {
      metrics.httpConnectionsRefused.inc({ reason: 'per_ip_cap' });
      // Debug, not warn: a flood would otherwise write a log line per connection.
      log.debug({ ip: peer, limit: config.maxHttpConnectionsPerIp }, 'HTTP connection refused: too many from this address');
      socket.destroy();
      return;
    }
    open.set(key, count);
    socket.once('close', () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left <= 0) open.delete(key);
      else open.set(key, left);
    });
  });

  // The first request's headers also have a deadline of our own, from the moment of connection
  // (kind="headers"): a socket that never sends a byte is closed then too, whatever Node's checker
  // (kind="request") counts from.
  const firstHeaders = new WeakMap<Socket, NodeJS.Timeout>();
  http.on('connection', (socket: Socket) => {
    if (socket.destroyed) return;
    const timer = setTimeout(() => {
      if (socket.destroyed) return;
      metrics.httpTimeouts.inc({ kind: 'headers' });
      if (socket.writable) socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
    }, config.httpHeadersTimeoutMs);
    timer.unref();
    firstHeaders.set(socket, timer);
    socket.once('close', () => clearTimeout(timer));
  });
  const headersArrived = (socket: Socket) => clearTimeout(firstHeaders.get(socket));
  http.on('request', (req: IncomingMessage) => headersArrived(req.socket));
  http.on('upgrade', (req: IncomingMessage) => headersArrived(req.socket));

  // Node answers a request that ran out of time with 408 and says so here; a request line or
  // header that does not parse gets 400. Either way the socket goes.
  http.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      metrics.httpTimeouts.inc({ kind: 'request' });
      if (socket.writable) socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    } else if (err.code !== 'ECONNRESET' && socket.writable) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
    socket.destroy();
  });
}
