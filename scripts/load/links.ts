// One miner's connection, over WebSocket (browsers' transport) or TCP (native miners'), reduced to
// what a load miner needs: send a line, hear lines, hear the close. Nothing is recorded per
// message: 20,000 of these live in one process.
import { connect } from 'node:net';
import WebSocket from 'ws';
import { LineFramer } from '../../protocol/line-framer.js';

export interface Link {
  send(text: string): void;
  close(): void;
}

export interface LinkEvents {
  message(text: string): void;
  /** The connection ended after it was open; `why` is the close code/reason or socket error. */
  closed(why: string): void;
}

export interface Endpoint {
  transport: 'ws' | 'tcp';
  host: string;
  port: number;
}

/** Longest line a TCP miner accepts from the gateway (jobs are a few kB). */
const MAX_LINE_CHARS = 1 << 20;

export function openLink(endpoint: Endpoint, localAddress: string | undefined, events: LinkEvents, timeoutMs: number): Promise<Link> {
  return endpoint.transport === 'ws' ? openWs(endpoint, localAddress, events, timeoutMs) : openTcp(endpoint, localAddress, events, timeoutMs);
}

function openWs({ host, port }: Endpoint, localAddress: string | undefined, events: LinkEvents, timeoutMs: number): Promise<Link> {
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${hostInUrl}:${port}/stratum`, { perMessageDeflate: false, handshakeTimeout: timeoutMs, ...(localAddress ? { localAddress } : {}) });
    let lastError = '';
    ws.once('error', (err) => reject(err));
    ws.once('open', () => {
      ws.removeAllListeners('error');
      ws.on('error', (err) => (lastError = err.message));
      ws.on('message', (data) => events.message(data.toString()));
      ws.on('close', (code, reason) => events.closed(lastError || `WebSocket close ${code}${reason.length ? ` "${reason.toString()}"` : ''}`));
      resolve({ send: (text) => ws.send(text), close: () => ws.terminate() });
    });
  });
}

function openTcp({ host, port }: Endpoint, localAddress: string | undefined, events: LinkEvents, timeoutMs: number): Promise<Link> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, noDelay: true, ...(localAddress ? { localAddress } : {}) });
    const timer = setTimeout(() => socket.destroy(new Error(`TCP connect timed out after ${timeoutMs} ms`)), timeoutMs);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      let lastError = '';
      let closeReason = '';
      const framer = new LineFramer(MAX_LINE_CHARS);
      socket.setEncoding('utf8');
      socket.on('error', (err) => (lastError = err.message));
      socket.on('data', (chunk: string) => {
        for (const line of framer.push(chunk).lines) {
          // The gateway says why it hangs up in a show_message just before it does.
          if (line.includes('"client.show_message"')) closeReason = line;
          events.message(line);
        }
      });
      socket.on('close', () => events.closed(lastError || (closeReason ? `TCP closed after ${closeReason}` : 'TCP connection closed by the gateway')));
      resolve({ send: (text) => socket.write(text + '\n'), close: () => socket.destroy() });
    });
  });
}
