// The protocol's Stratum client core, codec, subscription reading, handshake and backoff, without
// a socket: the transports (web/miner/pool-client.ts, server/work/stratum-client.ts) only frame.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backoffCeilingMs, jitteredBackoffMs } from '../protocol/backoff.js';
import { ProtocolError } from '../protocol/errors.js';
import { bytesToHex } from '../protocol/hex.js';
import { StratumClientCore, type Timers } from '../protocol/stratum/client-core.js';
import { encodeError, encodeNotification, encodeRequest, encodeResult, parseMessage, parseServerMessage } from '../protocol/stratum/codec.js';
import { StratumCode, StratumConnectionError, StratumError, StratumRpcError, StratumTimeoutError } from '../protocol/stratum/errors.js';
import { stratumHandshake, WorkerRefusedError } from '../protocol/stratum/handshake.js';
import { parseExtranonce, parseSubscribeResult } from '../protocol/stratum/subscription.js';

/** Timers driven by the test: `advance` fires what falls due, in order. */
class ManualTimers implements Timers {
  private nowMs = 0;
  private nextHandle = 1;
  private readonly due = new Map<number, { atMs: number; callback: () => void }>();
  setTimeout(callback: () => void, delayMs: number): unknown {
    const handle = this.nextHandle++;
    this.due.set(handle, { atMs: this.nowMs + delayMs, callback });
    return handle;
  }
  clearTimeout(handle: unknown): void {
    this.due.delete(handle as number);
  }
  get armed(): number {
    return this.due.size;
  }
  advance(ms: number): void {
    this.nowMs += ms;
    for (const [handle, timer] of [...this.due].sort((a, b) => a[1].atMs - b[1].atMs)) {
      if (timer.atMs > this.nowMs) break;
      this.due.delete(handle);
      timer.callback();
    }
  }
}

function harness(requestTimeoutMs = 100) {
  const timers = new ManualTimers();
  const sent: Record<string, unknown>[] = [];
  const core = new StratumClientCore({ send: (m) => sent.push(JSON.parse(m) as Record<string, unknown>), timers, requestTimeoutMs, peer: 'pool.test:3333', userAgent: 'core-test/1' });
  const closes: string[] = [];
  core.onClose((reason) => closes.push(reason));
  return { timers, sent, core, closes };
}

/** Lets promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('codec', () => {
  test('what a client encodes, a server parses back, and the other way round', () => {
    assert.deepEqual(parseMessage(encodeRequest(7, 'mining.subscribe', ['ua/1', 'ab'])), { kind: 'request', request: { id: 7, method: 'mining.subscribe', params: ['ua/1', 'ab'] } });
    assert.deepEqual(parseServerMessage(encodeResult(7, [[], '00', 4])), { kind: 'response', id: 7, result: [[], '00', 4], error: null });
    assert.deepEqual(parseServerMessage(encodeError('x', new StratumError(StratumCode.DUPLICATE, 'duplicate share'))), {
      kind: 'response',
      id: 'x',
      result: null,
      error: [22, 'duplicate share', null],
    });
    assert.deepEqual(parseServerMessage(encodeNotification('mining.set_difficulty', [2])), { kind: 'request', id: null, method: 'mining.set_difficulty', params: [2] });
  });

  test('a refused mining.submit answers "result": false beside the error; other refusals null', () => {
    const refusal = new StratumError(StratumCode.LOW_DIFFICULTY, 'low difficulty share');
    assert.deepEqual(JSON.parse(encodeError(3, refusal, 'mining.submit')), { id: 3, result: false, error: [23, 'low difficulty share', null] });
    assert.deepEqual(JSON.parse(encodeError(3, refusal, 'mining.authorize')), { id: 3, result: null, error: [23, 'low difficulty share', null] });
    assert.deepEqual(JSON.parse(encodeError(3, refusal)), { id: 3, result: null, error: [23, 'low difficulty share', null] });
  });

  test('malformed lines are refused with a reason, never thrown', () => {
    for (const [text, reason] of [
      ['{"id":1,', 'malformed JSON'],
      ['[1,2]', 'expected a JSON-RPC object'],
      ['{"id":{},"method":"a"}', 'id must be a number, a string or null'],
      ['{"id":1,"method":""}', 'method must be a non-empty string'],
      ['{"id":1,"method":"a","params":{}}', 'params must be an array'],
    ] as const) {
      const parsed = parseMessage(text);
      assert.equal(parsed.kind, 'invalid', text);
      assert.equal(parsed.kind === 'invalid' && parsed.error.message, reason, text);
    }
    assert.deepEqual(parseServerMessage('not json'), { kind: 'invalid', reason: 'a line that is not JSON' });
    assert.deepEqual(parseServerMessage('null'), { kind: 'invalid', reason: 'a message that is not a JSON object' });
    // A client is lenient where pools differ: params that are not a list read as none.
    assert.deepEqual(parseServerMessage('{"method":"mining.notify","params":"x"}'), { kind: 'request', id: null, method: 'mining.notify', params: [] });
  });
});

describe('subscribe result', () => {
  const en1 = '08000002';
  test('reads every shape pools answer with; the notify subscription id is the session id', () => {
    const cases: [unknown, string | undefined][] = [
      [[['mining.set_difficulty', 'b4b6'], ['mining.notify', 'ae68']], 'ae68'], // slush, this gateway
      [[['mining.notify', 'ae68']], 'ae68'], // ckpool, public-pool
      [['mining.notify', 'ae68'], 'ae68'], // one bare pair
      [[['mining.set_difficulty', 'b4b6']], 'b4b6'], // no notify: the first one given
      [[['mining.notify', 7], 'junk'], undefined], // ids are opaque strings
      [[], undefined],
      [null, undefined],
    ];
    for (const [subscriptions, id] of cases) {
      const parsed = parseSubscribeResult([subscriptions, en1, 4]);
      assert.equal(parsed.subscriptionId, id, JSON.stringify(subscriptions));
      assert.equal(bytesToHex(parsed.extranonce1), en1);
      assert.equal(parsed.extranonce2Size, 4);
    }
  });

  test('refuses what is not a usable extranonce, naming the field', () => {
    const refused = (fn: () => unknown, field: string) => assert.throws(fn, (err: unknown) => err instanceof ProtocolError && err.field === field);
    refused(() => parseSubscribeResult({ extranonce1: en1 }), 'subscribe result');
    refused(() => parseSubscribeResult(null), 'subscribe result');
    refused(() => parseSubscribeResult([[], 'xyz1', 4]), 'extranonce1');
    refused(() => parseSubscribeResult([[], 42, 4]), 'extranonce1');
    for (const size of [0, 33, 1.5, '4', undefined]) refused(() => parseExtranonce(en1, size), 'extranonce2_size');
    assert.equal(parseExtranonce('', 32).extranonce2Size, 32);
  });
});

describe('client core', () => {
  test('numbers requests, matches answers by id, and refuses with the pool\'s error', async () => {
    const { core, sent } = harness();
    const first = core.request('mining.subscribe', ['ua']);
    const second = core.request('mining.authorize', ['w', 'x']);
    assert.deepEqual(sent, [
      { id: 1, method: 'mining.subscribe', params: ['ua'] },
      { id: 2, method: 'mining.authorize', params: ['w', 'x'] },
    ]);
    core.receive(JSON.stringify({ id: 2, result: null, error: [24, 'Unauthorized worker', null] }));
    core.receive(JSON.stringify({ id: 1, result: [[], '00', 4], error: null }));
    assert.deepEqual(await first, [[], '00', 4]);
    await assert.rejects(second, (err: unknown) => err instanceof StratumRpcError && err.code === 24 && err.message === 'Unauthorized worker');
  });

  test('a submit answered "result": false with an error is refused with that error, as one answered null is', async () => {
    const { core } = harness();
    const asFalse = core.request('mining.submit', ['w', '1', '00', '00', '00']);
    const asNull = core.request('mining.submit', ['w', '1', '00', '00', '01']);
    core.receive(JSON.stringify({ id: 1, result: false, error: [23, 'low difficulty share', null] }));
    core.receive(JSON.stringify({ id: 2, result: null, error: [21, 'job not found', null] }));
    await assert.rejects(asFalse, (err: unknown) => err instanceof StratumRpcError && err.code === 23 && err.message === 'low difficulty share');
    await assert.rejects(asNull, (err: unknown) => err instanceof StratumRpcError && err.code === 21);
  });

  test('a request that gets no answer times out with a clear error; a late answer is ignored; the connection stays', async () => {
    const { core, timers, closes } = harness(100);
    const unanswered = core.request('mining.submit', []);
    const seen: { err?: unknown } = {};
    unanswered.catch((err: unknown) => (seen.err = err));
    timers.advance(99);
    await settle();
    assert.equal(seen.err as unknown, undefined, 'not before its time');
    timers.advance(1);
    await settle();
    assert.ok(seen.err instanceof StratumTimeoutError && seen.err instanceof StratumConnectionError);
    assert.equal(seen.err.message, 'mining.submit to pool.test:3333: no answer in 100 ms');
    core.receive(JSON.stringify({ id: 1, result: true, error: null }));
    assert.equal(core.closed, false);
    assert.deepEqual(closes, []);
  });

  test('an answered request leaves no timer behind', async () => {
    const { core, timers } = harness();
    const answered = core.request('mining.subscribe', []);
    assert.equal(timers.armed, 1);
    core.receive(JSON.stringify({ id: 1, result: true, error: null }));
    await answered;
    assert.equal(timers.armed, 0);
  });

  test('dispatches notifications in order and answers client.get_version', () => {
    const { core, sent } = harness();
    const seen: [string, unknown[]][] = [];
    core.onNotification((method, params) => seen.push([method, params]));
    core.receive(encodeNotification('mining.set_difficulty', [8]));
    core.receive('{"id":null,"method":"mining.notify","params":["j1"]}');
    core.receive('{"id":5,"method":"client.get_version","params":[]}');
    assert.deepEqual(seen, [
      ['mining.set_difficulty', [8]],
      ['mining.notify', ['j1']],
    ]);
    assert.deepEqual(sent, [{ id: 5, result: 'core-test/1', error: null }]);
  });

  test('closing fails every pending request once and tells the close handlers why', async () => {
    const { core, closes, timers } = harness();
    const pending = core.request('mining.subscribe', []);
    core.close('closed by upstream');
    core.close('again');
    await assert.rejects(pending, (err: unknown) => err instanceof StratumConnectionError && !(err instanceof StratumTimeoutError) && /pool\.test:3333 closed: closed by upstream/.test((err as Error).message));
    await assert.rejects(core.request('mining.submit', []), /connection to pool\.test:3333 is closed/);
    assert.deepEqual(closes, ['closed by upstream']);
    assert.equal(timers.armed, 0);
  });

  test('a line that is not JSON-RPC, or a handler that throws, closes the connection with the reason', () => {
    const garbled = harness();
    garbled.core.receive('HTTP/1.1 400 Bad Request');
    assert.deepEqual(garbled.closes, ['pool.test:3333 sent a line that is not JSON']);
    const buggy = harness();
    buggy.core.onNotification(() => {
      throw new Error('boom');
    });
    buggy.core.receive(encodeNotification('mining.notify', []));
    assert.deepEqual(buggy.closes, ['handling mining.notify failed: boom']);
  });
});

describe('handshake', () => {
  /** A pool scripted by method: each answer is a result, or an Error to reject with. */
  function scripted(answers: Record<string, unknown>) {
    const calls: [string, unknown[]][] = [];
    return {
      calls,
      request(method: string, params: unknown[]): Promise<unknown> {
        calls.push([method, params]);
        const answer = answers[method];
        return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
      },
    };
  }
  const subscribed = [[['mining.set_difficulty', 's1'], ['mining.notify', 'n1']], 'a0b1c2d3', 8];

  test('configures (when asked), subscribes with the previous session id, authorizes', async () => {
    const pool = scripted({ 'mining.configure': { 'version-rolling': true, 'version-rolling.mask': 'ffffffff' }, 'mining.subscribe': subscribed, 'mining.authorize': true });
    const session = await stratumHandshake(pool, {
      pool: 'the pool',
      userAgent: 'ua/1',
      user: 'w',
      password: 'p',
      subscriptionId: 'old',
      versionMask: 0x1fffe000,
      // A job may come ahead of the authorize answer: the extranonce is known before authorize goes out.
      onSubscribed: (s) => pool.calls.push([`subscribed ${s.subscriptionId}`, []]),
    });
    assert.deepEqual(pool.calls.map(([m]) => m), ['mining.configure', 'mining.subscribe', 'subscribed n1', 'mining.authorize']);
    assert.deepEqual(pool.calls[1]![1], ['ua/1', 'old']);
    assert.deepEqual(pool.calls[3]![1], ['w', 'p']);
    assert.equal(session.subscriptionId, 'n1');
    assert.equal(bytesToHex(session.extranonce1), 'a0b1c2d3');
    assert.equal(session.extranonce2Size, 8);
    assert.equal(session.versionMask, 0x1fffe000, 'the granted mask, inside the one asked for');
  });

  test('a pool without BIP310 grants no rolling; a refused worker is a WorkerRefusedError', async () => {
    const noRolling = scripted({ 'mining.configure': new StratumRpcError('unknown method', 20), 'mining.subscribe': subscribed, 'mining.authorize': true });
    assert.equal((await stratumHandshake(noRolling, { pool: 'p', userAgent: 'u', user: 'w', password: 'x', versionMask: 0x1fffe000 })).versionMask, 0);
    const refused = scripted({ 'mining.subscribe': subscribed, 'mining.authorize': new StratumRpcError('Unauthorized worker', 24) });
    await assert.rejects(stratumHandshake(refused, { pool: 'upstream pool h:1', userAgent: 'u', user: 'w', password: 'x' }), (err: unknown) => err instanceof WorkerRefusedError && err.message === 'upstream pool h:1 refused worker "w": Unauthorized worker');
    const saysFalse = scripted({ 'mining.subscribe': subscribed, 'mining.authorize': false });
    await assert.rejects(stratumHandshake(saysFalse, { pool: 'the pool', userAgent: 'u', user: 'w', password: 'x' }), WorkerRefusedError);
    const broken = scripted({ 'mining.subscribe': [[], 'zz', 4] });
    await assert.rejects(stratumHandshake(broken, { pool: 'the pool', userAgent: 'u', user: 'w', password: 'x' }), (err: unknown) => err instanceof ProtocolError && /from the pool/.test(err.message));
  });
});

describe('backoff', () => {
  const policy = { initialMs: 1000, maxMs: 60_000 };
  test('doubles from the initial wait up to the cap', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 100, 5000].map((n) => backoffCeilingMs(n, policy)), [1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000, 60_000]);
  });

  test('full jitter draws a whole number of ms below that ceiling', () => {
    const top = () => 0.999999;
    assert.deepEqual([0, 1, 2, 3, 4, 10].map((n) => jitteredBackoffMs(n, policy, top)), [999, 1999, 3999, 7999, 15999, 59999]);
    assert.equal(jitteredBackoffMs(5, policy, () => 0), 0);
    assert.equal(jitteredBackoffMs(100, policy, top), 59999);
    assert.equal(jitteredBackoffMs(3, policy, () => 0.5), 4000);
  });
});
