import { createServer, type Server, type Socket } from 'node:net';
import type { Connection } from './session.js';
import type { StratumHub } from './hub.js';
import { LineFramer } from '../../protocol/line-framer.js';

export interface TcpTransportOptions {
  maxMessageBytes: number;
  idleTimeoutMs: number;
}

/**
 * Answers a client has not read, per connection, before it is closed: a miner that stops reading
 * would otherwise make the gateway buffer replies without bound.
 */
export const MAX_UNREAD_BYTES = 1024 * 1024;
/** How long a closed connection may take to flush its last words before it is destroyed. */
const CLOSE_GRACE_MS = 1_000;

/**
 * Stratum V1 over TCP for native miners (cpuminer, cgminer, bitaxe-class devices, proxies):
 * newline-delimited JSON-RPC.
 */
export function createTcpTransport(hub: StratumHub, options: TcpTransportOptions): Server {
  let serial = 0;
  const server = createServer((socket: Socket) => {
    socket.setNoDelay(true);
    socket.setEncoding('utf8');
    // Once the gateway hangs up, nothing more from this client counts, even while the socket
    // lingers to flush the goodbye (a client that does not read would keep it open forever).
    let closing = false;
    const connection: Connection = {
      id: `t${(serial++).toString(36)}`,
      remoteAddress: normalizeIp(socket.remoteAddress),
      send(text) {
        if (closing || socket.destroyed || !socket.writable) return;
        if (socket.writableLength > MAX_UNREAD_BYTES) return connection.close('not reading the answers');
        socket.write(text + '\n');
      },
      close(reason) {
        if (closing) return;
        closing = true;
        if (!socket.destroyed) socket.end(JSON.stringify({ id: null, method: 'client.show_message', params: [reason] }) + '\n');
        setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
      },
    };
    const deliver = hub.attach(connection);
    socket.on('close', () => hub.detach(connection));
    socket.on('error', () => socket.destroy());
    // Refused: read (and drop) what the client sends, so that its end is seen and the socket goes
    // now, not when the unref'd grace timer fires (a closing server would wait for it).
    if (!deliver) return void socket.resume();
    socket.setTimeout(options.idleTimeoutMs, () => connection.close('idle timeout'));
    const framer = new LineFramer(options.maxMessageBytes);
    socket.on('data', (chunk: string) => {
      if (closing) return;
      const { lines, tooLong } = framer.push(chunk);
      for (const line of lines) if (!closing) deliver(line);
      if (tooLong) connection.close(`message over ${options.maxMessageBytes} bytes`);
    });
  });
  return server;
}

/** "::ffff:127.0.0.1" and "127.0.0.1" are the same client. */
export function normalizeIp(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}
