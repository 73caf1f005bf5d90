// The miner runtime against a real gateway: the pool client (WebSocket and TCP), the work
// cursor, reconnects, and the headless `dao-miner mine` contributor.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openWasmEngine } from '../cli/wasm-node.js';
import { connectPool } from '../cli/pool-transports.js';
import { bytesToHex } from '../protocol/hex.js';
import type { HashEngine, ScanJob } from '../web/miner/engine.js';
import { Miner } from '../web/miner/miner.js';
import { PoolClient, type PoolTransport } from '../web/miner/pool-client.js';
import { MEMBER, startTestGateway } from './helpers/gateway.js';
import { solveShare } from './helpers/test-miner.js';
import { waitFor } from './helpers/wait-for.js';

const BIN = fileURLToPath(new URL('../bin/dao-miner.mjs', import.meta.url));

/** The real WASM engine, recording every range it is asked to scan. */
function recordingEngine(): HashEngine & { ranges: { header: string; start: number; count: number }[] } {
  const inner = openWasmEngine('simd');
  let header = '';
  const ranges: { header: string; start: number; count: number }[] = [];
  return {
    name: inner.name,
    ranges,
    setJob(job: ScanJob) {
      header = bytesToHex(job.header);
      return inner.setJob(job);
    },
    scan(start, count) {
      ranges.push({ header, start, count });
      return inner.scan(start, count);
    },
    dispose: () => inner.dispose(),
  };
}

describe('miner runtime', () => {
  for (const scheme of ['ws', 'tcp'] as const) {
    test(`mines to the gateway over ${scheme === 'ws' ? 'WebSocket' : 'TCP'}; no nonce range is scanned twice`, async () => {
      const gateway = await startTestGateway();
      const url = scheme === 'ws' ? `ws://127.0.0.1:${gateway.httpPort}/stratum` : `stratum+tcp://127.0.0.1:${gateway.stratumPort}`;
      const engines = [recordingEngine(), recordingEngine()];
      const client = new PoolClient({ url, username: `${MEMBER}.rt`, connect: connectPool });
      const miner = new Miner(client, engines);
      try {
        miner.start();
        await waitFor('five accepted shares', () => miner.tally.accepted >= 5, 20_000, 20);
        await miner.stop();
        // Shares still in flight at the stop may be credited without the miner hearing back.
        assert.ok((await gateway.view.ledger.member(MEMBER)).shares >= miner.tally.accepted);
        assert.ok(miner.tally.rejected === 0 || /stopped/.test(miner.tally.snapshot().lastRejectReason ?? ''), miner.tally.snapshot().lastRejectReason);
        // Disjoint work: for each header (job and extranonce2), ranges never overlap across engines.
        const byHeader = new Map<string, { start: number; count: number }[]>();
        for (const r of engines.flatMap((e) => e.ranges)) byHeader.set(r.header, [...(byHeader.get(r.header) ?? []), r]);
        for (const ranges of byHeader.values()) {
          ranges.sort((a, b) => a.start - b.start);
          for (let i = 1; i < ranges.length; i++) assert.ok(ranges[i - 1]!.start + ranges[i - 1]!.count <= ranges[i]!.start, 'overlapping ranges');
        }
        assert.ok(engines.every((e) => e.ranges.length > 0), 'both engines worked');
      } finally {
        await miner.stop();
        await gateway.close();
      }
    });
  }

  test('a share found while the pool is away is sent after the reconnect and accepted', async () => {
    const gateway = await startTestGateway();
    let transport: PoolTransport | undefined;
    const client = new PoolClient({
      url: `ws://127.0.0.1:${gateway.httpPort}/stratum`,
      username: `${MEMBER}.queue`,
      connect: (url) => (transport = connectPool(url)),
      reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
    });
    const states: string[] = [];
    client.onState((s) => states.push(s));
    try {
      client.start();
      await waitFor('a job', () => client.job !== undefined, 5_000, 20);
      const job = client.job!;
      const extranonce2 = new Uint8Array(job.extranonce2Size);
      const share = await solveShare({
        notify: job.job,
        extranonce1: bytesToHex(job.extranonce1),
        extranonce2: bytesToHex(extranonce2),
        difficulty: job.difficulty,
        worker: 'unused',
      });
      // The connection drops just as the share is found: it is held, and sent after the reconnect.
      transport!.close();
      const outcome = await client.submit({ job, extranonce2, nonce: parseInt(share.params[4]!, 16) });
      assert.ok(states.includes('disconnected'), states.join(' '));
      assert.deepEqual(outcome, { accepted: true });
      assert.ok(states.filter((s) => s === 'authorized').length >= 2, states.join(' '));
      assert.equal((await gateway.view.ledger.member(MEMBER)).recent[0]!.hash, share.hash);
    } finally {
      client.stop();
      await gateway.close();
    }
  });

  test('the gateway restarts mid-run: the miner reconnects and goes on', async () => {
    let gateway = await startTestGateway();
    const { httpPort, stratumPort, dataDir } = gateway;
    const client = new PoolClient({ url: `ws://127.0.0.1:${httpPort}/stratum`, username: `${MEMBER}.restart`, connect: connectPool, reconnect: { initialDelayMs: 100, maxDelayMs: 500 } });
    const miner = new Miner(client, [openWasmEngine('simd')]);
    try {
      miner.start();
      await waitFor('shares before the restart', () => miner.tally.accepted >= 2, 20_000, 20);
      await gateway.close();
      const before = miner.tally.accepted;
      gateway = await startTestGateway({ httpPort, stratumPort, dataDir });
      await waitFor('shares after the restart', () => miner.tally.accepted >= before + 2, 20_000, 20);
      assert.ok((await gateway.view.ledger.member(MEMBER)).shares >= before + 2, 'the ledger kept the shares from before and has new ones');
    } finally {
      await miner.stop();
      await gateway.close();
    }
  });
});

describe('dao-miner mine', () => {
  test('contributes until --seconds, printing progress, and stops cleanly', async () => {
    const gateway = await startTestGateway();
    try {
      const child = spawn(process.execPath, [BIN, 'mine', '--pool', `ws://127.0.0.1:${gateway.httpPort}/stratum`, '--address', MEMBER.toLowerCase(), '--worker', 'headless', '--threads', '1', '--seconds', '6'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      const code = await new Promise((resolve) => child.once('exit', resolve));
      assert.equal(code, 0, out);
      assert.match(out, /^mining for 0x52908400098527886E0F7030069857D2E4169EE7 \(worker headless\)/m);
      assert.match(out, /MH\/s \| shares \d+ accepted, 0 rejected \| difficulty [0-9.e-]+ \| pool authorized/);
      const accepted = Number(/stopped: \d+ hashes, \d+ shares found, (\d+) accepted/.exec(out)![1]);
      assert.ok(accepted > 0);
      assert.ok((await gateway.view.ledger.member(MEMBER)).shares >= accepted, "shares in flight at the stop may be credited unheard");
    } finally {
      await gateway.close();
    }
  });

  test('bad input is one line and exit status 2', () => {
    const cases: [string[], RegExp][] = [
      [['mine', '--address', MEMBER], /--pool is required/],
      [['mine', '--pool', 'http://x:1', '--address', MEMBER], /--pool: "http:\/\/x:1" must be/],
      [['mine', '--pool', 'ws://127.0.0.1:1/stratum', '--address', '0x1234'], /--address: "0x1234" is not an address/],
      [['mine', '--pool', 'ws://127.0.0.1:1/stratum', '--address', MEMBER, '--worker', 'a b'], /--worker/],
    ];
    for (const [args, message] of cases) {
      const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
  });
});
