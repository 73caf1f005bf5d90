import { connect as connectTcp } from 'node:net';
import WebSocket from 'ws';
import type { PoolTransport } from '../web/miner/pool-client.js';
import { LineFramer } from '../protocol/line-framer.js';

/** Longest line accepted from a pool over TCP: a notify is a few kB. */
const MAX_LINE_CHARS = 1 << 20;

/**
 * The pool client's channel in Node: WebSocket for ws:// and wss:// (as in the browser), a TCP
 * socket with newline-delimited JSON for stratum+tcp:// (as native miners use).
 */
export function connectPool(url: string): PoolTransport {
  const parsed = new URL(url);
  if (parsed.protocol === 'ws:' || parsed.protocol === 'wss:') return wsTransport(url);
  if (parsed.protocol === 'stratum+tcp:') return tcpTransport(parsed.hostname, Number(parsed.port));
  throw new Error(`unsupported pool URL scheme "${parsed.protocol}" (expected ws://, wss:// or stratum+tcp://)`);
}

function wsTransport(url: string): PoolTransport {
  const ws = new WebSocket(url);
  let closed = false;
  const closeListeners: ((reason: string) => void)[] = [];
  const fire = (reason: string) => {
    if (closed) return;
    closed = true;
    for (const l of closeListeners) l(reason);
  };
  ws.on('close', (code, reason) => fire(`closed (${code}${reason.length ? `: ${reason}` : ''})`));
  ws.on('error', (err) => {
    fire(err.message);
    ws.terminate();
  });
  return {
    send: (text) => ws.readyState === ws.OPEN && ws.send(text),
    close: () => ws.terminate(),
    onOpen: (l) => ws.on('open', l),
    onMessage: (l) => ws.on('message', (data) => l(data.toString())),
    onClose: (l) => closeListeners.push(l),
  };
}

function tcpTransport(host: string, port: number): PoolTransport {
  const socket = connectTcp({ host, port });
  socket.setEncoding('utf8');
  socket.setNoDelay(true);
  const framer = new LineFramer(MAX_LINE_CHARS);
  let closed = false;
  const messageListeners: ((text: string) => void)[] = [];
  const closeListeners: ((reason: string) => void)[] = [];
  const fire = (reason: string) => {
    if (closed) return;
    closed = true;
    for (const l of closeListeners) l(reason);
  };
  socket.on('data', (chunk: string) => {
    const { lines, tooLong } = framer.push(chunk);
    for (const line of lines) for (const l of messageListeners) l(line);
    if (tooLong) socket.destroy(new Error('the pool sent an over-long line'));
  });
  socket.on('close', () => fire('closed'));
  socket.on('error', (err) => fire(err.message));
  return {
    send: (text) => !socket.destroyed && socket.write(text + '\n'),
    close: () => socket.destroy(),
    onOpen: (l) => socket.on('connect', l),
    onMessage: (l) => messageListeners.push(l),
    onClose: (l) => closeListeners.push(l),
  };
}
