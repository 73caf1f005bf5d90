// The fuzzer's subscribe/close churn: seeded patterns of connections from one address that
// subscribe (sometimes resuming an earlier subscription id, sometimes after
// mining.extranonce.subscribe) and go away, politely or abruptly, serially or interleaved. Every
// subscribe must get an extranonce1 of the expected width or a clear refusal, never "internal
// error"; what the address leaves held is bounded (checked after the run through the metrics).
import { connect, type Socket } from 'node:net';
import type { Rng } from './fuzz-rng.js';

interface Line {
  id?: unknown;
  result?: unknown;
  error?: unknown;
}

/** One raw TCP line connection from `ip`. */
function open(port: number, ip: string): Promise<{ socket: Socket; request(method: string, params: unknown[]): Promise<Line | 'closed'> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress: ip });
    const waiting = new Map<number, (line: Line | 'closed') => void>();
    let buffer = '';
    let nextId = 1;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const text = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        let line: Line;
        try {
          line = JSON.parse(text) as Line;
        } catch {
          continue;
        }
        if (typeof line.id === 'number') waiting.get(line.id)?.(line);
      }
    });
    socket.on('close', () => {
      for (const w of waiting.values()) w('closed');
      waiting.clear();
    });
    socket.on('error', (err) => reject(err));
    socket.on('connect', () =>
      resolve({
        socket,
        request(method, params) {
          const id = nextId++;
          return new Promise((done) => {
            const timer = setTimeout(() => done({ error: 'no answer within 5 s' }), 5_000);
            waiting.set(id, (line) => (clearTimeout(timer), waiting.delete(id), done(line)));
            socket.write(JSON.stringify({ id, method, params }) + '\n');
          });
        },
      }),
    );
  });
}

export interface ChurnExpectation {
  /** Hex digits of every extranonce1 handed out. */
  extranonce1Hex: number;
  extranonce2Size: number;
  /** Connections one address may hold open at once. */
  maxOpen: number;
}

/** Runs one seeded churn pattern from `ip`; returns what went wrong (empty when nothing) and its label. */
export async function subscribeChurn(port: number, ip: string, rng: Rng, expect: ChurnExpectation): Promise<{ label: string; findings: string[]; messages: number }> {
  const pattern = rng.pick(['serial', 'abrupt', 'resume', 'interleaved'] as const);
  const cycles = rng.range(10, 60);
  const findings: string[] = [];
  let messages = 0;
  const ids: string[] = [];
  const judge = (reply: Line | 'closed', what: string) => {
    if (reply === 'closed') return findings.push(`${what}: closed before answering a subscribe`);
    if (reply.error !== null && reply.error !== undefined) {
      const text = JSON.stringify(reply.error);
      if (!/pool full: no extranonce space, try again later/.test(text)) findings.push(`${what}: subscribe refused with ${text.slice(0, 200)}`);
      return;
    }
    const result = reply.result as [unknown[][], string, number];
    const en1 = result?.[1];
    if (typeof en1 !== 'string' || en1.length !== expect.extranonce1Hex || result[2] !== expect.extranonce2Size) findings.push(`${what}: bad subscribe result ${JSON.stringify(reply.result).slice(0, 200)}`);
    const id = result?.[0]?.[0]?.[1];
    if (typeof id === 'string') ids.push(id);
  };
  const one = async (i: number): Promise<Socket> => {
    const c = await open(port, ip);
    if (rng.chance(0.3)) (messages++, await c.request('mining.extranonce.subscribe', []));
    const resumeId = pattern === 'resume' && ids.length > 0 && rng.chance(0.7) ? rng.pick(ids) : rng.chance(0.05) ? 'ffffffffffffffff' : undefined;
    const params = resumeId === undefined ? ['churn/1.0'] : ['churn/1.0', resumeId];
    messages++;
    if (pattern === 'abrupt' && rng.chance(0.5)) {
      // Gone before the answer: the session may or may not have taken an extranonce1.
      c.socket.write(JSON.stringify({ id: 1, method: 'mining.subscribe', params }) + '\n');
      return c.socket;
    }
    judge(await c.request('mining.subscribe', params), `${pattern} cycle ${i}`);
    return c.socket;
  };
  if (pattern === 'interleaved') {
    const open: Socket[] = [];
    for (let i = 0; i < cycles; i++) {
      if (open.length >= expect.maxOpen - 1 || (open.length > 0 && rng.chance(0.4))) open.splice(rng.int(open.length), 1)[0]!.destroy();
      else open.push(await one(i));
    }
    for (const s of open) s.destroy();
  } else {
    for (let i = 0; i < cycles; i++) {
      const socket = await one(i);
      if (rng.chance(0.5)) socket.end();
      else socket.destroy();
      // The gateway must see the close before the address's next connection counts against its cap.
      await new Promise((resolve) => (socket.closed ? resolve(undefined) : socket.once('close', resolve)));
    }
  }
  return { label: `churn-${pattern}(${cycles})`, findings, messages };
}
