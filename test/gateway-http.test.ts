// The gateway's HTTP side: health, stats, member records, metrics and the web app.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'node:http';
import type { HealthResponse, HistoryBucket, HistoryResponse, MemberResponse, MemberShare, StatsResponse } from '../protocol/api.js';
import { assertFields } from './helpers/api-fields.js';
import { getJson, MEMBER, startTestGateway } from './helpers/gateway.js';
import { TestMiner } from './helpers/test-miner.js';

describe('HTTP API', () => {
  let gateway: Awaited<ReturnType<typeof startTestGateway>>;
  before(async () => {
    gateway = await startTestGateway();
    const miner = await TestMiner.ws(gateway.httpUrl);
    await miner.login(`${MEMBER}.api`);
    for (let i = 0; i < 3; i++) {
      const share = await miner.findShare({ worker: `${MEMBER}.api`, extranonce2: `0000000${i}` });
      assert.equal((await miner.submit(share.params)).result, true);
    }
  });
  after(() => gateway.close());

  test('/healthz says ok and names the practice work source', async () => {
    const { status, body } = await getJson(`${gateway.httpUrl}healthz`);
    assert.equal(status, 200);
    assert.equal(body.status, 'ok');
    assert.equal(body.workSource.kind, 'practice');
    assert.match(body.workSource.label, /no real coin/);
  });

  test('/api/stats reports the pool, the job and the difficulty', async () => {
    const { status, body } = await getJson(`${gateway.httpUrl}api/stats`);
    assert.equal(status, 200);
    assert.equal(body.connections, 1);
    assert.equal(body.miners, 1);
    assert.equal(body.totals.shares, 3);
    assert.ok(body.sharesPerSecond > 0);
    assert.ok(body.hashesPerSecond5m > 0, `5 m rate right after the shares: ${body.hashesPerSecond5m}`);
    assert.ok(body.hashesPerSecond1h > 0, `1 h rate: ${body.hashesPerSecond1h}`);
    assert.equal(body.difficulty.start, 1e-5);
    assert.equal(body.currentJob.networkDifficulty, 1);
    assert.match(body.currentJob.prevhash, /^[0-9a-f]{64}$/);
    assert.equal(body.workSource.practice, true);
  });

  test('/api/members/:address returns the member record, and refuses bad addresses', async () => {
    const { body } = await getJson(`${gateway.httpUrl}api/members/${MEMBER}`);
    assert.equal(body.member, MEMBER);
    assert.equal(body.shares, 3);
    assert.equal(body.recent.length, 3);
    assert.deepEqual(body.workers, [{ worker: 'api', difficulty: 1e-5 }]);
    // The burst is seconds old: its rate is its work over the (at least 10 s) it mined, not
    // spread over the whole 5 minutes or hour.
    const minedS = Math.max(Date.now() - body.firstShareAtMs, 10_000) / 1000;
    const burstRate = body.work / minedS;
    assert.ok(Math.abs(body.hashesPerSecond5m - burstRate) / burstRate < 0.2, `5 m rate ${body.hashesPerSecond5m} vs the burst's ${burstRate}`);
    assert.ok(body.hashesPerSecond5m > (body.work / 300) * 10, `5 m rate ${body.hashesPerSecond5m} is not the work spread over 5 minutes`);
    assert.ok(Math.abs(body.hashesPerSecond1h / body.hashesPerSecond5m - 1) < 1e-9, `every share is inside both windows: ${body.hashesPerSecond1h} vs ${body.hashesPerSecond5m}`);
    const unknown = await getJson(`${gateway.httpUrl}api/members/0x0000000000000000000000000000000000000001`);
    assert.equal(unknown.status, 200);
    assert.equal(unknown.body.shares, 0);
    for (const bad of ['nope', '0x1234', MEMBER.replace('E7', 'e7')]) {
      const r = await getJson(`${gateway.httpUrl}api/members/${bad}`);
      assert.equal(r.status, 400, bad);
      assert.match(r.body.error, /address|checksum/);
    }
  });

  test('the answers have exactly the fields protocol/api.ts declares', async () => {
    assertFields<HealthResponse>((await getJson(`${gateway.httpUrl}healthz`)).body, { status: 'required', problems: 'required', workSource: 'required', settlement: 'optional' }, '/healthz');
    const stats = (await getJson(`${gateway.httpUrl}api/stats`)).body;
    assertFields<StatsResponse>(
      stats,
      {
        workSource: 'required',
        hashesPerSecond5m: 'required',
        hashesPerSecond1h: 'required',
        sharesPerSecond: 'required',
        rejectedPerSecond: 'required',
        connections: 'required',
        miners: 'required',
        workers: 'required',
        difficulty: 'required',
        currentJob: 'optional',
        totals: 'required',
        uptimeSeconds: 'required',
      },
      '/api/stats',
    );
    assertFields<NonNullable<StatsResponse['currentJob']>>(
      stats.currentJob,
      { id: 'required', height: 'required', prevhash: 'required', ntime: 'required', networkDifficulty: 'required', ageSeconds: 'required' },
      '/api/stats currentJob',
    );
    assertFields<StatsResponse['totals']>(stats.totals, { shares: 'required', work: 'required', members: 'required', blocks: 'required' }, '/api/stats totals');
    const member = (await getJson(`${gateway.httpUrl}api/members/${MEMBER}`)).body;
    assertFields<MemberResponse>(
      member,
      { member: 'required', work: 'required', shares: 'required', firstShareAtMs: 'required', lastShareAtMs: 'required', hashesPerSecond5m: 'required', hashesPerSecond1h: 'required', recent: 'required', workers: 'required' },
      '/api/members/:address',
    );
    assertFields<MemberShare>(
      member.recent[0],
      { member: 'required', worker: 'required', sessionId: 'required', jobId: 'required', difficulty: 'required', work: 'required', hash: 'required', acceptedAtMs: 'required', shareKey: 'required' },
      '/api/members/:address recent share',
    );
  });

  test('/api/history: 5-minute buckets of the last 24 h at most, summing to the accepted shares; bad hours refused', async () => {
    const day = await getJson(`${gateway.httpUrl}api/history`);
    assert.equal(day.status, 200);
    assert.equal(day.body.hours, 24);
    assert.equal(day.body.buckets.length, 288, '24 h of 5-minute buckets, empty ones included');
    const { totals } = (await getJson(`${gateway.httpUrl}api/stats`)).body;
    const sum = (buckets: HistoryBucket[], key: 'shares' | 'work') => buckets.reduce((n, b) => n + b[key], 0);
    assert.equal(sum(day.body.buckets, 'shares'), totals.shares, 'the buckets hold every accepted share');
    assert.ok(Math.abs(sum(day.body.buckets, 'work') - totals.work) < 1, `work ${sum(day.body.buckets, 'work')} vs ${totals.work}`);
    assert.ok(day.body.buckets.at(-1).startMs <= Date.now() && Date.now() < day.body.toMs, 'the last bucket is the one in progress');
    const hour = await getJson(`${gateway.httpUrl}api/history?hours=1`);
    assert.equal(hour.body.buckets.length, 12);
    assert.equal(sum(hour.body.buckets, 'shares'), totals.shares);
    for (const bad of ['25', '48', '0', '1.5', '-1', 'day', '']) {
      const r = await getJson(`${gateway.httpUrl}api/history?hours=${bad}`);
      assert.equal(r.status, 400, `hours=${bad}`);
      assert.equal(r.body.error, `hours must be an integer from 1 to 24 (the history is kept to 288 buckets of 5 minutes), got "${bad}"`);
    }
    assertFields<HistoryResponse>(day.body, { hours: 'required', bucketMs: 'required', fromMs: 'required', toMs: 'required', buckets: 'required' }, '/api/history');
    assertFields<HistoryBucket>(day.body.buckets[0], { startMs: 'required', shares: 'required', work: 'required' }, '/api/history bucket');
  });

  test('/metrics is Prometheus text with the share counters', async () => {
    const res = await fetch(`${gateway.httpUrl}metrics`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /^dao_gateway_shares_accepted_total 3$/m);
    assert.match(text, /^dao_gateway_connections 1$/m);
    assert.match(text, /^# TYPE dao_gateway_work_accepted_total counter$/m);
  });

  test('serves the built web app, and nothing outside it', async () => {
    const page = await fetch(gateway.httpUrl);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type')!, /text\/html/);
    assert.match(await page.text(), /Computing Power DAO/);
    // A raw request path, so that no client normalises the ../ away.
    const status = await new Promise<number>((resolve) => {
      request({ host: '127.0.0.1', port: gateway.httpPort, path: '/../../package.json' }, (res) => resolve(res.statusCode!)).end();
    });
    assert.equal(status, 404);
    assert.equal((await fetch(`${gateway.httpUrl}api/nothing`)).status, 404);
    assert.equal((await fetch(`${gateway.httpUrl}api/stats`, { method: 'POST' })).status, 405);
  });
});
