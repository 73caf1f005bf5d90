// The miner's pool client over a scripted transport: what the shared client core changed for it
// (requests time out; a subscribe answer in any pool's shape; a refused worker stops it).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PoolClient, type PoolState, type PoolTransport } from '../web/miner/pool-client.js';
import { loadVectors } from './helpers/vectors.js';
import { waitFor } from './helpers/wait-for.js';

const vector = loadVectors().stratum_examples[0]!;

type Answer = (method: string, params: unknown[]) => unknown;

/** A pool in the test: `answer` gives each request's response object (undefined: no answer at all). */
class ScriptedPool {
  readonly connections: { sent: { id: number; method: string; params: unknown[] }[]; closed: boolean }[] = [];
  constructor(private readonly answer: (connection: number) => Answer) {}

  connect = (): PoolTransport => {
    const index = this.connections.length;
    const record = { sent: [] as { id: number; method: string; params: unknown[] }[], closed: false };
    this.connections.push(record);
    const answer = this.answer(index);
    let onMessage: (text: string) => void = () => {};
    let onClose: (reason: string) => void = () => {};
    const deliver = (message: object) => setImmediate(() => record.closed || onMessage(JSON.stringify(message)));
    return {
      send: (text) => {
        const request = JSON.parse(text) as { id: number; method: string; params: unknown[] };
        record.sent.push(request);
        const response = answer(request.method, request.params);
        if (response !== undefined) deliver({ id: request.id, ...(response as object) });
        if (request.method === 'mining.authorize' && response !== undefined) deliver({ id: null, method: 'mining.notify', params: vector.messages.notify.params });
      },
      close: () => {
        if (record.closed) return;
        record.closed = true;
        setImmediate(() => onClose('closed by the client'));
      },
      onOpen: (listener) => setImmediate(listener),
      onMessage: (listener) => (onMessage = listener),
      onClose: (listener) => (onClose = listener),
    };
  };
}

const subscribed = (subscriptions: unknown) => ({ result: [subscriptions, vector.extranonce1, 4], error: null });

describe('pool client', { timeout: 10_000 }, () => {
  test('a share the pool does not answer in time: hang up, resume the session, send it again', async () => {
    const pool = new ScriptedPool((connection) => (method) => {
      if (method === 'mining.subscribe') return subscribed([['mining.set_difficulty', 'd1'], ['mining.notify', 'n1']]);
      if (method === 'mining.authorize') return { result: true, error: null };
      if (method === 'mining.submit') return connection === 0 ? undefined : { result: true, error: null };
      return undefined;
    });
    const client = new PoolClient({ url: 'ws://pool.test/stratum', username: 'w', connect: pool.connect, requestTimeoutMs: 50, reconnect: { initialDelayMs: 1, maxDelayMs: 5 } });
    try {
      client.start();
      const job = await waitFor('a job', () => client.job);
      const outcome = await client.submit({ job, extranonce2: new Uint8Array(4), nonce: 7 });
      assert.deepEqual(outcome, { accepted: true });
      assert.equal(pool.connections.length, 2);
      assert.equal(pool.connections[0]!.closed, true, 'the silent connection was closed');
      assert.deepEqual(pool.connections[1]!.sent.find((m) => m.method === 'mining.subscribe')!.params, ['dao-miner', 'n1'], 'resumes with the notify subscription id');
      assert.equal(pool.connections.flatMap((c) => c.sent).filter((m) => m.method === 'mining.submit').length, 2);
    } finally {
      client.stop();
    }
  });

  test('a share answered "result": false with an error is refused with the pool\'s reason, on the same connection', async () => {
    const pool = new ScriptedPool(() => (method) => {
      if (method === 'mining.subscribe') return subscribed([['mining.notify', 'n1']]);
      if (method === 'mining.authorize') return { result: true, error: null };
      if (method === 'mining.submit') return { result: false, error: [23, 'low difficulty share', null] };
      return undefined;
    });
    const client = new PoolClient({ url: 'ws://pool.test/stratum', username: 'w', connect: pool.connect, requestTimeoutMs: 1_000, reconnect: { initialDelayMs: 1, maxDelayMs: 5 } });
    try {
      client.start();
      const job = await waitFor('a job', () => client.job);
      assert.deepEqual(await client.submit({ job, extranonce2: new Uint8Array(4), nonce: 7 }), { accepted: false, reason: 'low difficulty share' });
      assert.equal(pool.connections.length, 1);
      assert.equal(pool.connections[0]!.closed, false);
    } finally {
      client.stop();
    }
  });

  test('a subscribe that gets no answer is retried on a new connection', async () => {
    const pool = new ScriptedPool((connection) => (method) => {
      if (method === 'mining.subscribe') return connection === 0 ? undefined : subscribed(['mining.notify', 'bare']);
      if (method === 'mining.authorize') return { result: true, error: null };
      return undefined;
    });
    const client = new PoolClient({ url: 'ws://pool.test/stratum', username: 'w', connect: pool.connect, requestTimeoutMs: 50, reconnect: { initialDelayMs: 1, maxDelayMs: 5 } });
    try {
      client.start();
      await waitFor('a job', () => client.job);
      assert.equal(pool.connections.length, 2);
      assert.equal(pool.connections[0]!.closed, true);
    } finally {
      client.stop();
    }
  });

  test('a refused worker stops the client, saying why', async () => {
    const pool = new ScriptedPool(() => (method) => {
      if (method === 'mining.subscribe') return subscribed([['mining.notify', 'n1']]);
      if (method === 'mining.authorize') return { result: null, error: [24, 'Unauthorized worker', null] };
      return undefined;
    });
    const client = new PoolClient({ url: 'ws://pool.test/stratum', username: 'w', connect: pool.connect, reconnect: { initialDelayMs: 1, maxDelayMs: 5 } });
    const states: [PoolState, string | undefined][] = [];
    client.onState((state, detail) => states.push([state, detail]));
    client.start();
    await waitFor('the stop', () => states.some(([s]) => s === 'stopped'));
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.deepEqual(states.find(([s]) => s === 'stopped'), ['stopped', 'the pool refused worker "w": Unauthorized worker']);
    assert.equal(pool.connections.length, 1, 'no reconnect');
  });
});
