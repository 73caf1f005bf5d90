// Bad input, floods and stale work: errors or disconnects, never a crash, and honest miners on
// other addresses keep mining throughout.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import WebSocket from 'ws';
import { connect } from 'node:net';
import { StratumCode } from '../protocol/stratum/errors.js';
import { getJson, MEMBER, MEMBER_2, startTestGateway } from './helpers/gateway.js';
import { ManualSource } from './helpers/manual-source.js';
import { TestMiner } from './helpers/test-miner.js';

/** An honest miner from another loopback address: it must be unaffected by the abuse. */
async function honestShareAccepted(gateway: { stratumPort: number }, address = '127.0.0.2'): Promise<void> {
  const miner = await TestMiner.tcp(gateway.stratumPort, address);
  await miner.login(`${MEMBER_2}.honest`);
  const share = await miner.findShare({ worker: `${MEMBER_2}.honest` });
  assert.equal((await miner.submit(share.params)).result, true);
  miner.close();
}

describe('bad input', () => {
  test('malformed JSON and wrong types get errors, and the connection goes on', async () => {
    const gateway = await startTestGateway();
    try {
      const miner = await TestMiner.tcp(gateway.stratumPort);
      const bad = ['{not json', '[1,2,3]', '"text"', '{"id":{"a":1},"method":"mining.subscribe","params":[]}', '{"id":1,"method":42,"params":[]}', '{"id":2,"method":"mining.subscribe","params":"x"}', '{"id":3,"method":"mining.submit","params":[1,2,3,4,5]}', `{"id":4,"method":"mining.authorize","params":[${'['.repeat(500)}${']'.repeat(500)}]}`, '{"id":5,"method":"mining.suggest_difficulty","params":["-1"]}', '{"id":6,"method":"mining.configure","params":["version-rolling",{}]}'];
      for (const text of bad) miner.sendRaw(text);
      await miner.waitFor(() => miner.messages.filter((m) => m.error).length >= bad.length);
      for (const m of miner.messages) {
        // A refused submit answers false (issue 18), every other refusal null.
        assert.equal(m.result ?? null, m.id === 3 ? false : null);
        // A submit or authorize before subscribing is "not subscribed"; everything else is malformed.
        assert.equal(m.error?.[0], m.id === 3 || m.id === 4 ? StratumCode.NOT_SUBSCRIBED : StratumCode.OTHER, JSON.stringify(m));
      }
      assert.equal(miner.closed, false);
      // Still a working session.
      await miner.login(`${MEMBER}.after`);
      const share = await miner.findShare({ worker: `${MEMBER}.after` });
      assert.equal((await miner.submit(share.params)).result, true);
      miner.close();
      assert.equal((await getJson(`${gateway.httpUrl}healthz`)).status, 200);
    } finally {
      await gateway.close();
    }
  });

  test('an oversize message closes the connection (TCP and WebSocket)', async () => {
    const gateway = await startTestGateway({ maxMessageBytes: 1024 });
    try {
      const tcp = await TestMiner.tcp(gateway.stratumPort);
      tcp.sendRaw(`{"id":1,"method":"mining.subscribe","params":["${'x'.repeat(5000)}"]}`);
      await tcp.waitClosed();
      const noNewline = connect(gateway.stratumPort, '127.0.0.1');
      const closed = new Promise((resolve) => noNewline.on('close', resolve));
      noNewline.on('error', () => {});
      noNewline.resume(); // consume what the gateway says, so that its end is seen
      noNewline.write('{'.padEnd(4096, ' '));
      await closed;
      const ws = new WebSocket(gateway.httpUrl.replace('http', 'ws') + 'stratum');
      await new Promise((resolve) => ws.once('open', resolve));
      const code = new Promise<number>((resolve) => ws.once('close', resolve));
      ws.on('error', () => {});
      ws.send('x'.repeat(4096));
      assert.equal(await code, 1009); // message too big
      await honestShareAccepted(gateway);
    } finally {
      await gateway.close();
    }
  });

  test('a binary WebSocket frame and a wrong path are refused', async () => {
    const gateway = await startTestGateway();
    try {
      const ws = new WebSocket(gateway.httpUrl.replace('http', 'ws') + 'stratum');
      await new Promise((resolve) => ws.once('open', resolve));
      const code = new Promise<number>((resolve) => ws.once('close', resolve));
      ws.send(Buffer.from([1, 2, 3]));
      assert.equal(await code, 1008);
      const wrong = new WebSocket(gateway.httpUrl.replace('http', 'ws') + 'elsewhere');
      const failed = await new Promise<boolean>((resolve) => {
        wrong.once('error', () => resolve(true));
        wrong.once('open', () => resolve(false));
      });
      assert.equal(failed, true);
    } finally {
      await gateway.close();
    }
  });
});

describe('floods and limits', () => {
  test('a flood of invalid shares gets the connection banned; the address may come back; other addresses mine on', async () => {
    const gateway = await startTestGateway({ maxInvalidPerMinute: 20, banSeconds: 60 });
    try {
      const abuser = await TestMiner.tcp(gateway.stratumPort, '127.0.0.3');
      await abuser.login(`${MEMBER}.abuser`);
      const [worker, jobId, en2, ntime] = (await abuser.findShare({ worker: `${MEMBER}.abuser` })).params as string[];
      // Low-difficulty shares: the first 20 a minute are forgiven as honest rejects, the next 20 ban.
      for (let i = 0; i < 80 && !abuser.closed; i++) abuser.sendRaw(JSON.stringify({ id: i, method: 'mining.submit', params: [worker, jobId, en2, ntime, 'deadbeef'] }));
      await abuser.waitClosed();
      assert.match(JSON.stringify(abuser.messages), /banned/);
      // One banned connection does not ban its address (issue 18): a farm behind NAT is one address.
      const again = await TestMiner.tcp(gateway.stratumPort, '127.0.0.3');
      await again.login(`${MEMBER}.again`);
      assert.equal(again.closed, false);
      again.close();
      await honestShareAccepted(gateway);
    } finally {
      await gateway.close();
    }
  });

  test('a message rate over the limit is refused; a connection cap per address holds', async () => {
    const gateway = await startTestGateway({ messagesPerSecond: 5, messageBurst: 10, maxConnectionsPerIp: 2 });
    try {
      const fast = await TestMiner.tcp(gateway.stratumPort, '127.0.0.4');
      for (let i = 0; i < 30; i++) fast.sendRaw(JSON.stringify({ id: i, method: 'mining.subscribe', params: [] }));
      await fast.waitFor((m) => typeof m.error?.[1] === 'string' && m.error[1].includes('rate limit'));
      const second = await TestMiner.tcp(gateway.stratumPort, '127.0.0.4');
      const third = await TestMiner.tcp(gateway.stratumPort, '127.0.0.4');
      await third.waitClosed();
      assert.match(JSON.stringify(third.messages), /too many connections/);
      assert.equal(second.closed, false);
      await honestShareAccepted(gateway);
      fast.close();
      second.close();
    } finally {
      await gateway.close();
    }
  });

  test('an idle connection is closed', async () => {
    const gateway = await startTestGateway({ idleTimeoutMs: 1000 });
    try {
      const idle = await TestMiner.tcp(gateway.stratumPort);
      const began = Date.now();
      await idle.waitClosed(5000);
      assert.ok(Date.now() - began >= 900);
    } finally {
      await gateway.close();
    }
  });

  test('a WebSocket that goes silent is pinged and, if it does not answer, dropped; a chatty one is never pinged', async () => {
    const gateway = await startTestGateway({ wsPingIntervalMs: 200 });
    const url = gateway.httpUrl.replace('http', 'ws') + 'stratum';
    const open = async (autoPong: boolean) => {
      const ws = new WebSocket(url, { autoPong });
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      let pings = 0;
      ws.on('ping', () => pings++);
      const closed = new Promise<number>((resolve) => ws.once('close', () => resolve(Date.now())));
      return { ws, pings: () => pings, closed };
    };
    try {
      const deaf = await open(false);
      const answering = await open(true);
      const chatty = await open(true);
      const began = Date.now();
      // A message every 50 ms: its traffic is the proof of life, so it needs no ping.
      const chatter = setInterval(() => chatty.ws.send(JSON.stringify({ id: 1, method: 'mining.subscribe', params: [] })), 50);
      const deadAt = await deaf.closed;
      clearInterval(chatter);
      assert.ok(deaf.pings() >= 1, 'the silent connection was pinged before it was dropped');
      assert.ok(deadAt - began >= 300 && deadAt - began < 2000, `dropped after ${deadAt - began} ms: two to three intervals of silence`);
      assert.ok(answering.pings() >= 1, 'a quiet connection is pinged');
      assert.equal(answering.ws.readyState, WebSocket.OPEN, 'a connection that answers its pings stays');
      assert.equal(chatty.pings(), 0, 'a connection that keeps talking is not pinged');
      assert.equal(chatty.ws.readyState, WebSocket.OPEN);
      answering.ws.close();
      chatty.ws.close();
    } finally {
      await gateway.close();
    }
  });
});

describe('stale work', () => {
  test('the previous job is accepted during the grace after a non-clean update, refused after it, and at once after a clean one', async () => {
    const source = new ManualSource();
    const gateway = await startTestGateway({ staleGraceMs: 300 }, { source });
    try {
      const miner = await TestMiner.tcp(gateway.stratumPort);
      await miner.login(`${MEMBER}.stale`);
      const first = await miner.findShare({ worker: `${MEMBER}.stale`, extranonce2: '00000001' });
      const second = await miner.findShare({ worker: `${MEMBER}.stale`, extranonce2: '00000002' });
      let next = miner.nextJob();
      source.emit(false);
      await next;
      assert.equal((await miner.submit(first.params)).result, true, 'within the grace period');
      await new Promise((r) => setTimeout(r, 400));
      assert.equal((await miner.submit(second.params)).error?.[0], StratumCode.JOB_NOT_FOUND, 'after the grace period');
      const third = await miner.findShare({ worker: `${MEMBER}.stale` });
      next = miner.nextJob();
      source.emit(true);
      const notify = await next;
      assert.equal(notify.params![8], true);
      assert.equal((await miner.submit(third.params)).error?.[0], StratumCode.JOB_NOT_FOUND, 'after a new block');
      miner.close();
    } finally {
      await gateway.close();
    }
  });

  test('a fresh job id at least every refresh interval, even without new work', async () => {
    const source = new ManualSource();
    const gateway = await startTestGateway({ jobRefreshMs: 1000 }, { source });
    try {
      const miner = await TestMiner.tcp(gateway.stratumPort);
      await miner.login(`${MEMBER}.refresh`);
      const firstId = miner.job![0];
      const refreshed = await miner.nextJob();
      assert.notEqual(refreshed.params![0], firstId);
      assert.equal(refreshed.params![8], false);
      miner.close();
    } finally {
      await gateway.close();
    }
  });
});
