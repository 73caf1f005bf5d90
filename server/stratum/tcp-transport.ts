import { createServer, type Server, type Socket } from 'node:net';
import type { Connection } from './session.js';
import type { StratumHub } from './hub.js';
import { LineFramer } from '../../protocol/line-framer.js';

export interface TcpTransportOptions {
  maxMessageBytes: number;
  idleTimeoutMs: number;
}

/**
 * Stratum V1 over TCP for native miners (cpuminer, cgminer, bitaxe-class devices, proxies):
 * newline-delimited JSON-RPC.
 */
export function createTcpTransport(hub: StratumHub, options: TcpTransportOptions): Server {
  let serial = 0;
  const server = createServer((socket: Socket) => {
    socket.setNoDelay(true);
    socket.setEncoding('utf8');
    const connection: Connection = {
      id: `t${(serial++).toString(36)}`,
      remoteAddress: normalizeIp(socket.remoteAddress),
      send(text) {
        if (!socket.destroyed && socket.writable) socket.write(text + '\n');
      },
      close(reason) {
        if (!socket.destroyed) socket.end(JSON.stringify({ id: null, method: 'client.show_message', params: [reason] }) + '\n');
        socket.destroySoon();
      },
    };
    const deliver = hub.attach(connection);
    socket.on('close', () => hub.detach(connection));
    socket.on('error', () => socket.destroy());
    if (!deliver) return;
    socket.setTimeout(options.idleTimeoutMs, () => connection.close('idle timeout'));
    const framer = new LineFramer(options.maxMessageBytes);
    socket.on('data', (chunk: string) => {
      const { lines, tooLong } = framer.push(chunk);
      for (const line of lines) deliver(line);
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
