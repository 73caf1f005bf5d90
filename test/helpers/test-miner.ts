// A Stratum V1 miner for tests: real TCP or WebSocket, real hashing (our WASM engine), and a
// record of every message, so tests can assert on what the gateway actually said.
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { openWasmEngine } from '../../cli/wasm-node.js';
import { hexToBytes, u32ToHex } from '../../protocol/hex.js';
import { blockHash, serializeHeader, withNonce } from '../../protocol/header.js';
import { rollVersion, shareMerkleRoot } from '../../protocol/share.js';
import { parseNotifyParams, type StratumJob } from '../../protocol/stratum-job.js';
import { difficultyToTarget } from '../../protocol/target.js';
import { LineFramer } from '../../protocol/line-framer.js';

export interface RpcMessage {
  id?: number | string | null;
  method?: string;
  params?: unknown[];
  result?: unknown;
  error?: [number, string, unknown] | null;
}

type Transport = { send(text: string): void; close(): void; onMessage(cb: (text: string) => void): void; onClose(cb: () => void): void };

function tcpTransport(port: number, localAddress?: string): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) }, () => {
      socket.off('error', reject);
      const framer = new LineFramer(1 << 20);
      const listeners: ((t: string) => void)[] = [];
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        for (const line of framer.push(chunk).lines) for (const l of listeners) l(line);
      });
      socket.on('error', () => {});
      resolve({
        send: (text) => socket.write(text + '\n'),
        close: () => socket.destroy(),
        onMessage: (cb) => listeners.push(cb),
        onClose: (cb) => socket.on('close', cb),
      });
    });
    socket.once('error', reject);
  });
}

function wsTransport(url: string, localAddress?: string): Promise<Transport> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, localAddress ? { localAddress } : {});
    ws.once('error', reject);
    ws.once('open', () => {
      ws.off('error', reject);
      ws.on('error', () => {});
      resolve({
        send: (text) => ws.send(text),
        close: () => ws.terminate(),
        onMessage: (cb) => ws.on('message', (data) => cb(data.toString())),
        onClose: (cb) => ws.on('close', cb),
      });
    });
  });
}

export interface FoundShare {
  params: string[];
  hash: string;
}

export class TestMiner {
  readonly messages: RpcMessage[] = [];
  closed = false;
  extranonce1 = '';
  extranonce2Size = 0;
  difficulty = 1;
  versionMask = 0;
  job: unknown[] | undefined;
  private nextId = 1;
  private waiters: { match: (m: RpcMessage) => boolean; resolve: (m: RpcMessage) => void; reject: (e: Error) => void }[] = [];

  private constructor(private readonly transport: Transport) {
    transport.onMessage((text) => this.receive(text));
    transport.onClose(() => {
      this.closed = true;
      // Nothing more will arrive: fail what is still waiting instead of holding timers open.
      for (const w of [...this.waiters]) w.reject(new Error('connection closed'));
    });
  }

  /** `localAddress` (127.0.0.2, ...) makes the miner a different client address on loopback. */
  static async tcp(port: number, localAddress?: string): Promise<TestMiner> {
    return new TestMiner(await tcpTransport(port, localAddress));
  }

  static async ws(httpUrl: string, localAddress?: string): Promise<TestMiner> {
    return new TestMiner(await wsTransport(httpUrl.replace(/^http/, 'ws') + 'stratum', localAddress));
  }

  /** Resolves when the gateway has closed the connection. */
  async waitClosed(timeoutMs = 5_000): Promise<void> {
    const began = Date.now();
    while (!this.closed) {
      if (Date.now() - began > timeoutMs) throw new Error('the connection was not closed');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Sends raw text (for malformed-input tests). */
  sendRaw(text: string): void {
    this.transport.send(text);
  }

  /** A request; resolves with the response carrying the same id. */
  request(method: string, params: unknown[], id: number | string | null = this.nextId++): Promise<RpcMessage> {
    const response = this.waitFor((m) => m.method === undefined && m.id === id, 10_000, this.messages.length);
    this.transport.send(JSON.stringify({ id, method, params }));
    return response;
  }

  /** The first message from index `from` on that matches (already received, or the next to come). */
  waitFor(match: (m: RpcMessage) => boolean, timeoutMs = 10_000, from = 0): Promise<RpcMessage> {
    const seen = this.messages.slice(from).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.messages.slice(-5))}`)), timeoutMs);
      const waiter = { match, resolve: (m: RpcMessage) => (clearTimeout(timer), resolve(m)), reject: (e: Error) => fail(e) };
      const fail = (e: Error) => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(e);
      };
      this.waiters.push(waiter);
    });
  }

  /** Waits for a notify newer than the ones already seen. */
  nextJob(): Promise<RpcMessage> {
    const seen = this.messages.filter((m) => m.method === 'mining.notify').length;
    let count = 0;
    return this.waitFor((m) => m.method === 'mining.notify' && ++count > seen);
  }

  /** subscribe + authorize, then waits for the first job. */
  async login(username: string, options: { versionRolling?: boolean; suggestDifficulty?: number } = {}): Promise<void> {
    const sub = await this.request('mining.subscribe', ['test-miner/1.0']);
    const result = sub.result as [unknown, string, number];
    this.extranonce1 = result[1];
    this.extranonce2Size = result[2];
    if (options.versionRolling) {
      const conf = await this.request('mining.configure', [['version-rolling'], { 'version-rolling.mask': 'ffffffff' }]);
      this.versionMask = parseInt((conf.result as Record<string, string>)['version-rolling.mask']!, 16);
    }
    // Before authorize, as ESP-Miner and ckpool's proxy ask: the first job already carries it.
    if (options.suggestDifficulty !== undefined) await this.request('mining.suggest_difficulty', [options.suggestDifficulty]);
    const firstJob = this.nextJob();
    const auth = await this.request('mining.authorize', [username, 'x']);
    if (auth.result !== true) throw new Error(`authorize failed: ${JSON.stringify(auth.error)}`);
    await firstJob;
  }

  /** Hashes the current job until a share meets the current difficulty (or `difficulty`). */
  async findShare(options: { worker: string; extranonce2?: string; difficulty?: number; versionBits?: number; startNonce?: number }): Promise<FoundShare> {
    if (!this.job) throw new Error('no job yet');
    return solveShare({
      notify: this.job,
      extranonce1: this.extranonce1,
      extranonce2: options.extranonce2 ?? '00'.repeat(this.extranonce2Size),
      difficulty: options.difficulty ?? this.difficulty,
      worker: options.worker,
      versionMask: this.versionMask,
      ...(options.versionBits !== undefined ? { versionBits: options.versionBits } : {}),
      ...(options.startNonce !== undefined ? { startNonce: options.startNonce } : {}),
    });
  }

  submit(params: string[], id?: number | string | null): Promise<RpcMessage> {
    return this.request('mining.submit', params, id);
  }

  close(): void {
    this.transport.close();
  }

  private receive(text: string): void {
    let message: RpcMessage;
    try {
      message = JSON.parse(text) as RpcMessage;
    } catch {
      message = { method: '<unparseable>', params: [text] };
    }
    if (message.method === 'mining.notify') this.job = message.params;
    if (message.method === 'mining.set_difficulty') this.difficulty = Number(message.params![0]);
    this.messages.push(message);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(message)) return true;
      w.resolve(message);
      return false;
    });
  }
}

let engine: ReturnType<typeof openWasmEngine> | undefined;

/**
 * Finds a share for a mining.notify as any miner would: coinbase, merkle root, header, then the
 * WASM engine over the nonces until the hash meets the difficulty. Returns mining.submit params.
 */
export async function solveShare(task: {
  /** The mining.notify params, or the job already decoded. */
  notify: unknown[] | StratumJob;
  extranonce1: string;
  extranonce2: string;
  difficulty: number;
  worker: string;
  versionMask?: number;
  versionBits?: number;
  startNonce?: number;
}): Promise<FoundShare> {
  const job = Array.isArray(task.notify) ? parseNotifyParams(task.notify) : task.notify;
  const root = shareMerkleRoot(job, hexToBytes(task.extranonce1, 'en1'), hexToBytes(task.extranonce2, 'en2'));
  const version = rollVersion(job.version, task.versionBits, task.versionMask ?? 0);
  const header = serializeHeader({ version, prevhash: job.prevhash, merkleRoot: root, ntime: job.ntime, bits: job.bits, nonce: 0 });
  engine ??= openWasmEngine('simd');
  await engine.setJob({ header, target: difficultyToTarget(task.difficulty) });
  // Scan in steps of about twice the expected work: a scan returns only when its range is done.
  const step = Math.min(1 << 20, Math.max(4096, Math.ceil(task.difficulty * 2 ** 33)));
  for (let start = task.startNonce ?? 0; start < 2 ** 32; start += step) {
    const found = (await engine.scan(start, Math.min(step, 2 ** 32 - start))).nonces[0];
    if (found !== undefined) {
      const params = [task.worker, job.jobId, task.extranonce2, u32ToHex(job.ntime), u32ToHex(found)];
      if (task.versionBits !== undefined) params.push(u32ToHex(task.versionBits));
      return { params, hash: blockHash(withNonce(header, found)) };
    }
  }
  throw new Error('no share in the whole nonce space');
}
