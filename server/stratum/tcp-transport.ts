import { createServer, type BlockList, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Connection } from './session.js';
import type { StratumHub } from './hub.js';
import { LineFramer } from '../../protocol/line-framer.js';
import { inBlockList } from '../cidr.js';
import { normalizeIp } from '../client-key.js';
import { parseProxyHeader } from './proxy-protocol.js';

export interface TcpTransportOptions {
  maxMessageBytes: number;
  idleTimeoutMs: number;
  /**
   * Load balancers (--trusted-proxy): a connection from one must open with a PROXY v1/v2 header
   * naming the client, within `proxyHeaderTimeoutMs`. From anyone else "PROXY ..." is just a line
   * that is not Stratum.
   */
  trustedProxy?: BlockList;
  proxyHeaderTimeoutMs?: number;
  /** A trusted proxy's connection closed for a bad or missing header (metrics). */
  onProxyHeaderRejected?: (reason: 'invalid' | 'timeout') => void;
  log?: Logger;
}

/**
 * Answers a client has not read, per connection, before it is closed: a miner that stops reading
 * would otherwise make the gateway buffer replies without bound.
 */
export const MAX_UNREAD_BYTES = 1024 * 1024;
/** How long a closed connection may take to flush its last words before it is destroyed. */
const CLOSE_GRACE_MS = 1_000;

export { normalizeIp };

/**
 * Stratum V1 over TCP for native miners (cpuminer, cgminer, bitaxe-class devices, proxies):
 * newline-delimited JSON-RPC.
 */
export function createTcpTransport(hub: StratumHub, options: TcpTransportOptions): Server {
  let serial = 0;
  return createServer((socket: Socket) => {
    socket.setNoDelay(true);
    const peer = normalizeIp(socket.remoteAddress);
    if (options.trustedProxy && inBlockList(options.trustedProxy, peer)) readProxyHeader(socket, peer, options, (client, rest) => serve(socket, client, rest));
    else serve(socket, peer, '');
  });

  function serve(socket: Socket, remoteAddress: string, firstBytes: string): void {
    socket.setEncoding('utf8');
    // Once the gateway hangs up, nothing more from this client counts, even while the socket
    // lingers to flush the goodbye (a client that does not read would keep it open forever).
    let closing = false;
    const connection: Connection = {
      id: `t${(serial++).toString(36)}`,
      transport: 'tcp',
      remoteAddress,
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
    const onData = (chunk: string) => {
      if (closing) return;
      const { lines, tooLong } = framer.push(chunk);
      for (const line of lines) if (!closing) deliver(line);
      if (tooLong) connection.close(`message over ${options.maxMessageBytes} bytes`);
    };
    socket.on('data', onData);
    if (firstBytes !== '') onData(firstBytes);
  }
}

/**
 * Reads the PROXY header a trusted balancer sends first; calls `then` with the client's address
 * (the balancer's own for LOCAL and UNKNOWN) and what followed the header. A header that is
 * malformed or late closes the connection, logged with why.
 */
function readProxyHeader(socket: Socket, peer: string, options: TcpTransportOptions, then: (client: string, rest: string) => void): void {
  let buffered = Buffer.alloc(0);
  const reject = (reason: 'invalid' | 'timeout', detail: string) => {
    cleanup();
    options.log?.warn({ ip: peer, reason: detail }, 'PROXY protocol header refused: connection from a trusted proxy closed');
    options.onProxyHeaderRejected?.(reason);
    socket.destroy();
  };
  const timer = setTimeout(() => reject('timeout', `no complete PROXY header within ${options.proxyHeaderTimeoutMs ?? 5_000} ms`), options.proxyHeaderTimeoutMs ?? 5_000);
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    const header = parseProxyHeader(buffered);
    if (header.kind === 'incomplete') return;
    if (header.kind === 'invalid') return reject('invalid', header.reason);
    cleanup();
    then(header.source ? normalizeIp(header.source.address) : peer, buffered.subarray(header.bytes).toString('utf8'));
  };
  const onEnd = () => cleanup();
  function cleanup(): void {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('close', onEnd);
  }
  socket.on('data', onData);
  socket.on('close', onEnd);
  socket.on('error', () => socket.destroy());
}
