import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { StratumHub } from './hub.js';
import type { Connection } from './session.js';
import { MAX_UNREAD_BYTES, normalizeIp } from './tcp-transport.js';

export interface WsTransportOptions {
  path: string;
  maxMessageBytes: number;
  idleTimeoutMs: number;
  /** Browsers behind a dead network path never say goodbye: ping, and drop who does not pong. */
  pingIntervalMs: number;
}

/** Stratum V1 over WebSocket for browsers: one JSON-RPC message per text frame, on the HTTP port. */
export function attachWsTransport(http: HttpServer, hub: StratumHub, options: WsTransportOptions): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes, perMessageDeflate: false });
  let serial = 0;

  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== options.path) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(request, socket, head, (ws) => onConnection(ws, request));
  });

  function onConnection(ws: WebSocket, request: IncomingMessage): void {
    let closing = false;
    const connection: Connection = {
      id: `w${(serial++).toString(36)}`,
      remoteAddress: normalizeIp(request.socket.remoteAddress),
      send(text) {
        if (closing || ws.readyState !== ws.OPEN) return;
        // A client that stops reading would otherwise make the gateway buffer replies without bound.
        if (ws.bufferedAmount > MAX_UNREAD_BYTES) return connection.close('not reading the answers');
        ws.send(text);
      },
      close(reason) {
        if (closing) return;
        closing = true;
        // 1008: policy violation; the reason is what a browser's close event shows.
        if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) ws.close(1008, reason.slice(0, 120));
        setTimeout(() => ws.terminate(), 1_000).unref();
      },
    };
    let pinger: NodeJS.Timeout | undefined;
    let idle: NodeJS.Timeout | undefined;
    const deliver = hub.attach(connection);
    ws.on('close', () => {
      clearInterval(pinger);
      clearTimeout(idle);
      hub.detach(connection);
    });
    ws.on('error', () => ws.terminate());
    if (!deliver) return;

    let alive = true;
    ws.on('pong', () => (alive = true));
    pinger = setInterval(() => {
      if (!alive) return ws.terminate();
      alive = false;
      ws.ping();
    }, options.pingIntervalMs);
    pinger.unref();
    idle = setTimeout(() => connection.close('idle timeout'), options.idleTimeoutMs);
    ws.on('message', (data, isBinary) => {
      // Re-armed in place: a new timer per message would be an object per share that lives until
      // the miner's next one, seconds later, long enough to be promoted and collected by a full GC.
      idle?.refresh();
      if (closing) return;
      if (isBinary) return connection.close('binary frames are not Stratum');
      deliver(data.toString());
    });
  }
  return wss;
}
