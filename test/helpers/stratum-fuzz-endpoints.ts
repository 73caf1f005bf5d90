// The fuzzer's connections to the gateway: a TCP line socket or a ws client from a chosen local
// address, each with an Inbox of what the gateway said and a way to wait for a condition on it.
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { classifyServerMessage, type ServerMessage } from './stratum-fuzz-oracle.js';

/** Everything one fuzz connection received, and a way to wait for a condition on it. */
export class Inbox {
  readonly messages: ServerMessage[] = [];
  closed = false;
  closeCode: number | undefined;
  closeReason = '';
  private readonly wakers = new Set<() => void>();

  push(text: string): void {
    this.messages.push(classifyServerMessage(text));
    this.wake();
  }

  end(code?: number, reason = ''): void {
    if (this.closed) return;
    this.closed = true;
    this.closeCode = code;
    this.closeReason = reason;
    this.wake();
  }

  /** Resolves true as soon as `pred` holds (checked on every arrival), false after timeoutMs. */
  until(pred: () => boolean, timeoutMs: number): Promise<boolean> {
    if (pred()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (pred()) done(true);
      };
      const done = (value: boolean) => {
        clearTimeout(timer);
        this.wakers.delete(check);
        resolve(value);
      };
      const timer = setTimeout(() => done(false), timeoutMs);
      this.wakers.add(check);
    });
  }

  responses(): Extract<ServerMessage, { kind: 'response' }>[] {
    return this.messages.filter((m): m is Extract<ServerMessage, { kind: 'response' }> => m.kind === 'response');
  }

  /** What client.show_message said last: the TCP transport's reason for hanging up. */
  shownReason(): string {
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const m = this.messages[i]!;
      if (m.kind === 'notification' && m.method === 'client.show_message') return String(m.params[0]);
    }
    return '';
  }

  /** Re-checks the waiting conditions (for callers that keep their own state, like raw bytes). */
  wake(): void {
    for (const w of [...this.wakers]) w();
  }
}

export interface Endpoint {
  send(text: string): void;
  inbox: Inbox;
  destroy(): void;
}

export function openTcp(gateway: { stratumPort: number }, ip: string): Promise<Endpoint & { socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: gateway.stratumPort, localAddress: ip });
    const inbox = new Inbox();
    let pending: Buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      let nl: number;
      while ((nl = pending.indexOf(10)) !== -1) {
        const line = pending.subarray(0, nl).toString('utf8').trim();
        pending = pending.subarray(nl + 1);
        if (line) inbox.push(line);
      }
    });
    socket.on('error', () => {});
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`TCP connect from ${ip} timed out`));
    }, 3_000);
    socket.on('close', () => {
      clearTimeout(timer);
      inbox.end();
      reject(new Error(`TCP connection from ${ip} closed before it opened`));
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve({
        socket,
        inbox,
        send: (text) => {
          if (!socket.destroyed && socket.writable) socket.write(text + '\n');
        },
        destroy: () => socket.destroy(),
      });
    });
  });
}

export function openWs(gateway: { httpUrl: string }, ip: string): Promise<Endpoint & { ws: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(gateway.httpUrl.replace(/^http/, 'ws') + 'stratum', { localAddress: ip });
    const inbox = new Inbox();
    ws.on('message', (data, isBinary) => inbox.push(isBinary ? '<binary frame from the gateway>' : data.toString()));
    ws.on('error', () => {});
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`WebSocket from ${ip} did not open`));
    }, 3_000);
    ws.on('close', (code, reason) => {
      clearTimeout(timer);
      inbox.end(code, reason.toString());
      reject(new Error(`WebSocket from ${ip} closed before it opened (${code})`));
    });
    ws.once('open', () => {
      clearTimeout(timer);
      resolve({ ws, inbox, send: (text) => ws.send(text, () => {}), destroy: () => ws.terminate() });
    });
  });
}
