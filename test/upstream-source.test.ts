import assert from 'node:assert/strict';
import net from 'node:net';
import { after, describe, it } from 'node:test';
import { bytesToHex, hexToBytes, hexToU32 } from '../protocol/hex.js';
import { serializeHeader } from '../protocol/header.js';
import { merkleRootFromBranch } from '../protocol/merkle.js';
import { sha256d } from '../protocol/sha256.js';
import { prevhashToStratum } from '../protocol/stratum-job.js';
import { difficultyToTarget } from '../protocol/target.js';
import { StratumConnectionError } from '../protocol/stratum/errors.js';
import { connectStratum } from '../server/work/stratum-client.js';
import { createUpstreamSource } from '../server/work/upstream-source.js';
import type { ForwardedShare, WorkTemplate } from '../server/work/work-source.js';
import { loadVectors } from './helpers/vectors.js';
import { collectTemplates } from './helpers/collect-templates.js';
import { waitFor } from './helpers/wait-for.js';

const vector = loadVectors().stratum_examples[0]!;
const NOTIFY = vector.messages.notify.params as unknown[];
const SUBMIT = vector.messages.submit.params as string[];
const WORKER = SUBMIT[0]!;
const PASSWORD = 'upstream-secret-pw';
const EN1 = vector.extranonce1; // 57a6f098
const EN2 = SUBMIT[2]!; // c7080000
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Message { id: number | null; method: string; params: unknown[] }

/**
 * An upstream Stratum V1 pool in the test: newline JSON over TCP. It answers configure /
 * subscribe / authorize like public-pool did in the vector session, then sends
 * set_difficulty 512 and the vector's notify, and records every submit. A subscribe that names
 * the previous session id gets the same extranonce1 back (session resume, as ckpool does).
 */
class FakePool {
  readonly server = net.createServer((s) => this.accept(s));
  readonly sockets = new Set<net.Socket>();
  readonly received: Message[] = [];
  connections = 0;
  acceptConnections = true;
  authorizeOk = true;
  extranonce1 = EN1;
  notify: unknown[] = NOTIFY;
  port = 0;

  async listen(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  calls(method: string): Message[] {
    return this.received.filter((m) => m.method === method);
  }

  private accept(socket: net.Socket): void {
    this.connections++;
    if (!this.acceptConnections) return void socket.destroy();
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    const send = (o: object) => socket.write(JSON.stringify(o) + '\n');
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const m = JSON.parse(buffer.slice(0, nl)) as Message;
        buffer = buffer.slice(nl + 1);
        this.received.push(m);
        if (m.method === 'mining.configure') send({ id: m.id, error: null, result: { 'version-rolling': true, 'version-rolling.mask': '1fffe000' } });
        else if (m.method === 'mining.subscribe') send({ id: m.id, error: null, result: [[['mining.notify', EN1]], this.extranonce1, 4] });
        else if (m.method === 'mining.authorize' && !this.authorizeOk) send({ id: m.id, result: null, error: [24, 'Unauthorized worker', null] });
        else if (m.method === 'mining.authorize') {
          send({ id: m.id, error: null, result: true });
          send({ id: null, method: 'mining.set_difficulty', params: [512] });
          send({ id: null, method: 'mining.notify', params: this.notify });
        } else if (m.method === 'mining.submit') send({ id: m.id, error: null, result: true });
      }
    });
  }

  broadcast(o: object): void {
    for (const s of this.sockets) s.write(JSON.stringify(o) + '\n');
  }

  dropAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  close(): Promise<void> {
    this.dropAll();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}


/** The vector share as the gateway would forward it: extranonce = the upstream extranonce2, version rolled. */
function vectorShare(template: WorkTemplate): ForwardedShare {
  const header = hexToBytes(vector.expected.header_hex, 'header');
  return { template, extranonce: hexToBytes(EN2, 'en2'), ntime: hexToU32(SUBMIT[3], 'ntime'), nonce: hexToU32(SUBMIT[4], 'nonce'), version: 0x20002000, header, hash: vector.expected.hash };
}

describe('upstream Stratum V1 source against a pool in the test', () => {
  const cleanup: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  async function setup(pool?: FakePool) {
    pool ??= await new FakePool().listen();
    const source = createUpstreamSource({
      url: `stratum+tcp://${encodeURIComponent(WORKER)}:${PASSWORD}@127.0.0.1:${pool.port}`,
      versionRolling: true,
      reconnect: { initialDelayMs: 40, maxDelayMs: 160 },
    });
    const templates = collectTemplates(source);
    const p = pool;
    cleanup.push(() => source.stop(), () => p.close());
    return { pool, source, templates };
  }

  it('turns the vector notify into a template whose coinbase is the vector coinbase', async () => {
    const { pool, source, templates } = await setup();
    await source.start();
    const t = templates.all[0]!;
    assert.equal(source.kind, 'stratum');
    assert.equal(source.label, `upstream pool 127.0.0.1:${pool.port}`);
    assert.equal(source.connected, true);
    assert.equal(source.versionMask, 0x1fffe000);
    assert.deepEqual(pool.received.map((m) => m.method).slice(0, 3), ['mining.configure', 'mining.subscribe', 'mining.authorize']);
    assert.deepEqual(pool.calls('mining.authorize')[0]!.params, [WORKER, PASSWORD]);
    assert.equal(bytesToHex(t.coinb1), (NOTIFY[2] as string) + EN1);
    assert.equal(t.extranonceSize, 4);
    assert.equal(bytesToHex(t.coinb1) + EN2 + bytesToHex(t.coinb2), vector.expected.coinbase_hex);
    assert.equal(prevhashToStratum(t.prevhash), NOTIFY[1]);
    assert.deepEqual(t.merkleBranch.map(bytesToHex), NOTIFY[4]);
    assert.deepEqual([t.version, t.bits, t.ntime, t.cleanJobs, t.sourceJobId], [0x20000000, 0x192495f8, 0x64b3f3ec, false, '1']);
    assert.equal(t.forwardTarget, difficultyToTarget(512));
    // The gateway's header for the vector share is the vector header.
    const coinbase = hexToBytes(vector.expected.coinbase_hex, 'coinbase');
    const header = serializeHeader({ version: 0x20002000, prevhash: t.prevhash, merkleRoot: merkleRootFromBranch(sha256d(coinbase), t.merkleBranch), ntime: t.ntime, bits: t.bits, nonce: 0xed460d91 });
    assert.equal(bytesToHex(header), vector.expected.header_hex);
  });

  it('submits the vector share with exactly the vector submit params and resolves accepted', async () => {
    const { pool, source, templates } = await setup();
    await source.start();
    assert.deepEqual(await source.submit(vectorShare(templates.all[0]!)), { accepted: true });
    assert.deepEqual(pool.calls('mining.submit')[0]!.params, SUBMIT);
  });

  it('rejects start() clearly when authorize fails, without the password, and does not retry', async () => {
    const pool = await new FakePool().listen();
    pool.authorizeOk = false;
    const { source } = await setup(pool);
    await assert.rejects(source.start(), (err: Error) => {
      assert.match(err.message, new RegExp(`upstream pool 127\\.0\\.0\\.1:${pool.port} refused worker "${WORKER.replace('.', '\\.')}": Unauthorized worker`));
      assert.ok(!err.message.includes(PASSWORD));
      return true;
    });
    await delay(200);
    assert.equal(pool.connections, 1);
    assert.equal(source.connected, false);
  });

  it('reconnects with backoff after the upstream drops, resubscribes with the session id, and emits nothing while away', async () => {
    const { pool, source, templates } = await setup();
    await source.start();
    pool.acceptConnections = false;
    pool.dropAll();
    await waitFor('the source to see the drop', () => !source.connected, 3000, 10);
    const before = templates.all.length;
    await waitFor('four connection attempts', () => pool.connections >= 4, 3000, 10); // several refused attempts, spaced by the backoff
    assert.equal(templates.all.length, before, 'no template while disconnected');
    assert.equal(source.connected, false);
    pool.acceptConnections = true;
    const t = await templates.next();
    assert.equal(source.connected, true);
    const subscribes = pool.calls('mining.subscribe');
    assert.equal(subscribes.length, 2);
    assert.deepEqual(subscribes[1]!.params.slice(1), [EN1], 'resume: the session id from the first subscribe');
    assert.equal(bytesToHex(t.coinb1), (NOTIFY[2] as string) + EN1);
  });

  it('delivers a share submitted while disconnected after the reconnect', async () => {
    const { pool, source, templates } = await setup();
    await source.start();
    const template = templates.all[0]!;
    pool.acceptConnections = false;
    pool.dropAll();
    await waitFor('the source to see the drop', () => !source.connected, 3000, 10);
    const outcome = source.submit(vectorShare(template));
    await delay(100);
    assert.equal(pool.calls('mining.submit').length, 0);
    pool.acceptConnections = true;
    assert.deepEqual(await outcome, { accepted: true });
    assert.deepEqual(pool.calls('mining.submit')[0]!.params, SUBMIT);
  });

  it('drops a queued share whose previous block changed during the outage, saying why', async () => {
    const { pool, source, templates } = await setup();
    await source.start();
    const template = templates.all[0]!;
    pool.acceptConnections = false;
    pool.dropAll();
    await waitFor('the source to see the drop', () => !source.connected, 3000, 10);
    const outcome = source.submit(vectorShare(template));
    pool.notify = ['2', '00'.repeat(32), ...NOTIFY.slice(2, 8), true];
    pool.acceptConnections = true;
    assert.deepEqual(await outcome, { accepted: false, reason: 'stale after upstream reconnect' });
    assert.equal(pool.calls('mining.submit').length, 0);
  });

  it('applies mining.set_extranonce to the next template', async () => {
    const { pool, source, templates } = await setup();
    await source.start();
    pool.broadcast({ id: null, method: 'mining.set_extranonce', params: ['aabbccdd', 8] });
    pool.broadcast({ id: null, method: 'mining.notify', params: ['3', ...NOTIFY.slice(1)] });
    const t = await templates.next();
    assert.equal(bytesToHex(t.coinb1), (NOTIFY[2] as string) + 'aabbccdd');
    assert.equal(t.extranonceSize, 8);
    assert.equal(t.cleanJobs, true, 'jobs under the old extranonce1 can no longer be forwarded');
    // A share for the old template is not sent under the new extranonce1.
    const stale = await source.submit(vectorShare(templates.all[0]!));
    assert.equal(stale.accepted, false);
    assert.equal(pool.calls('mining.submit').length, 0);
  });

  it('follows client.reconnect to another port on the same host', async () => {
    const { pool, source, templates } = await setup();
    const other = await new FakePool().listen();
    cleanup.push(() => other.close());
    await source.start();
    pool.broadcast({ id: null, method: 'client.reconnect', params: ['127.0.0.1', other.port, 0] });
    await templates.next();
    assert.equal(other.calls('mining.subscribe').length, 1);
    assert.equal(source.connected, true);
  });
});

describe('the Stratum TCP transport', () => {
  async function rawServer(onSocket: (s: net.Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
    const sockets = new Set<net.Socket>();
    const server = net.createServer((s) => (sockets.add(s), s.on('error', () => {}), onSocket(s)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      port: (server.address() as net.AddressInfo).port,
      close: () => (sockets.forEach((s) => s.destroy()), new Promise((resolve) => server.close(() => resolve()))),
    };
  }

  it('times out a request the upstream never answers', async () => {
    const server = await rawServer(() => {});
    const client = await connectStratum({ host: '127.0.0.1', port: server.port, requestTimeoutMs: 100 });
    await assert.rejects(client.request('mining.subscribe', []), (err: Error) => err instanceof StratumConnectionError && /no answer in 100 ms/.test(err.message));
    client.close();
    await server.close();
  });

  it('closes the connection on a line longer than the cap', async () => {
    const server = await rawServer((s) => s.write('x'.repeat(5000)));
    const client = await connectStratum({ host: '127.0.0.1', port: server.port, maxLineBytes: 1024 });
    const reason = await new Promise<string>((resolve) => client.onClose(resolve));
    assert.match(reason, /line longer than 1024 bytes/);
    assert.equal(client.closed, true);
    await server.close();
  });
});
