import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { StratumHub } from './hub.js';
import type { Connection } from './session.js';
import { BlockList } from 'node:net';
import { forwardedClient } from '../forwarded-for.js';
import { MAX_UNREAD_BYTES } from './tcp-transport.js';
import { releaseFinishedFragments } from './ws-receiver-fragments.js';

export interface WsTransportOptions {
  path: string;
  maxMessageBytes: number;
  idleTimeoutMs: number;
  /**
   * Browsers behind a dead network path never say goodbye: a connection silent for this long is
   * pinged, and dropped if it is still silent (no pong, no message) one interval later.
   */
  pingIntervalMs: number;
  /** Load balancers whose X-Forwarded-For names the client (--trusted-proxy). */
  trustedProxy?: BlockList;
}

/** What the liveness sweep knows of one connection. */
interface Liveness {
  ws: WebSocket;
  /** A message or a pong arrived since the last sweep. */
  heard: boolean;
  /** The last sweep pinged it: silent at the next one, it is dead. */
  pinged: boolean;
}

/** Stratum V1 over WebSocket for browsers: one JSON-RPC message per text frame, on the HTTP port. */
export function attachWsTransport(http: HttpServer, hub: StratumHub, options: WsTransportOptions): WebSocketServer {
  releaseFinishedFragments();
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxMessageBytes, perMessageDeflate: false });
  let serial = 0;
  const trusted = options.trustedProxy ?? new BlockList();
  // One sweep for every connection, not a timer each. A miner's shares prove it is there, so only
  // the quiet ones are pinged: 20,000 pings and pongs per interval would be traffic and garbage.
  const live = new Set<Liveness>();
  const sweep = setInterval(() => {
    for (const entry of live) {
      if (entry.heard) {
        entry.heard = false;
        entry.pinged = false;
      } else if (entry.pinged) {
        entry.ws.terminate();
      } else {
        entry.pinged = true;
        entry.ws.ping();
      }
    }
  }, options.pingIntervalMs);
  sweep.unref();
  wss.on('close', () => clearInterval(sweep));

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
      transport: 'ws',
      remoteAddress: forwardedClient(request.socket.remoteAddress, request.headers['x-forwarded-for'], trusted),
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
    let idle: NodeJS.Timeout | undefined;
    const liveness: Liveness = { ws, heard: true, pinged: false };
    const deliver = hub.attach(connection);
    ws.on('close', () => {
      live.delete(liveness);
      clearTimeout(idle);
      hub.detach(connection);
    });
    ws.on('error', () => ws.terminate());
    if (!deliver) return;

    live.add(liveness);
    ws.on('pong', () => (liveness.heard = true));
    idle = setTimeout(() => connection.close('idle timeout'), options.idleTimeoutMs);
    ws.on('message', (data, isBinary) => {
      liveness.heard = true;
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
