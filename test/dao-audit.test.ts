// Auditable epochs, end to end: a real gateway (SQLite ledger) credits real miner shares, closes
// and publishes epochs on a real anvil; `dao-audit` downloads each epoch's bundle, checks it against
// the hash on-chain and recomputes the root. Tampered bundles (a share altered, a share dropped, a
// member's work inflated) are caught with the exact difference; bad input ends in one line, exit 2.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { main } from '../cli/dao-audit.js';
import type { GatewayConfig } from '../server/config.js';
import { startTestChain, type TestChain } from './helpers/chain.js';
import { PINNED, Rig } from './helpers/fault-rig.js';
import { MEMBER, MEMBER_2, startSettlingGateway } from './helpers/gateway.js';
import { useFreshDatabase } from './helpers/pg.js';
import { waitFor } from './helpers/wait-for.js';

type Gateway = Awaited<ReturnType<typeof startSettlingGateway>>;

interface Run {
  code: number;
  out: string[];
  err: string[];
}

async function audit(...argv: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (l) => out.push(l), (l) => err.push(l));
  return { code, out, err };
}

/** A real gateway on `chain` that credits real shares of two members and publishes epochs 1 and 2. */
async function settleTwoEpochs(chain: TestChain, config: Partial<GatewayConfig> = {}): Promise<Gateway> {
  const gateway = await startSettlingGateway(chain, { ...PINNED, ...config });
  const settlement = gateway.view.settlement!;
  const alice = await Rig.open(gateway.stratumPort, `${MEMBER}.a`);
  const bob = await Rig.open(gateway.stratumPort, `${MEMBER_2}.b`);
  try {
    for (let i = 0; i < 3; i++) assert.equal((await alice.mine()).result, true);
    for (let i = 0; i < 2; i++) assert.equal((await bob.mine()).result, true);
    assert.equal((await settlement.closeEpoch())?.epoch, 1);
    await waitFor('epoch 1 published', async () => (await settlement.store.epoch(1))?.status === 'published', 20_000);
    // Epoch 2 builds on epoch 1's leaves: its bundle carries them.
    assert.equal((await bob.mine()).result, true);
    assert.equal((await settlement.closeEpoch())?.epoch, 2);
    await waitFor('epoch 2 published', async () => (await settlement.store.epoch(2))?.status === 'published', 20_000);
  } finally {
    alice.close();
    bob.close();
  }
  return gateway;
}

/** Audits epochs 1 and 2 of `gateway` against the chain: both must verify. */
async function assertBothVerify(gateway: Gateway, rpc: string): Promise<void> {
  for (const epoch of ['1', '2']) {
    const run = await audit('epoch', epoch, '--gateway', gateway.httpUrl, '--rpc', rpc);
    assert.equal(run.code, 0, `epoch ${epoch} verifies: ${JSON.stringify(run)}`);
    assert.match(run.out.join('\n'), /matches the on-chain hash/);
    assert.match(run.out.join('\n'), /VERDICT: OK/);
  }
}

describe('dao-audit: auditable epochs', () => {
  let chain: TestChain;
  let gateway: Gateway;
  let rpc: string;
  let dir: string;
  let bundle1: string;

  before(async () => {
    chain = await startTestChain();
    rpc = chain.anvil.rpcUrl;
    dir = mkdtempSync(join(tmpdir(), 'dao-audit-'));
    gateway = await settleTwoEpochs(chain);
    const res = await fetch(`${gateway.httpUrl}api/epochs/1/audit`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/x-ndjson');
    bundle1 = await res.text();
  });

  after(async () => {
    await gateway?.close();
    await chain?.stop();
  });

  const gatewayUrl = () => gateway.httpUrl;

  test('the bundles of real epochs verify against the chain, with and without previous leaves', async () => {
    await assertBothVerify(gateway, rpc);
    const shares = bundle1.split('\n').filter((l) => l.startsWith('{"type":"share"'));
    assert.equal(shares.length, 5, 'every credited share of epoch 1 is in its bundle');
    const epoch2 = await (await fetch(`${gatewayUrl()}api/epochs/2/audit`)).text();
    assert.equal(epoch2.split('\n').filter((l) => l.startsWith('{"type":"leaf"')).length, 2, "epoch 2's bundle carries epoch 1's two leaves");
  });

  test('without --rpc the hash is checked against the gateway, and the report says so', async () => {
    const run = await audit('epoch', '1', '--gateway', gatewayUrl());
    assert.equal(run.code, 0, JSON.stringify(run));
    assert.match(run.out.join('\n'), /the gateway's stated hash \(no --rpc: not checked on-chain\)/);
  });

  /** Audits `text` as epoch 1's bundle against the chain; returns the report. */
  async function auditTampered(name: string, text: string): Promise<Run> {
    const file = join(dir, `${name}.ndjson`);
    writeFileSync(file, text);
    const run = await audit('epoch', '1', '--gateway', gatewayUrl(), '--rpc', rpc, '--file', file);
    assert.equal(run.code, 1, `${name}: the audit fails: ${JSON.stringify(run)}`);
    assert.match(run.out.join('\n'), /bundle hash: 0x[0-9a-f]{64} does not match the on-chain hash/, name);
    return run;
  }

  const lines = () => bundle1.split('\n').slice(0, -1);
  const rebuild = (ls: string[]) => `${ls.join('\n')}\n`;

  test('a share altered in the bundle is caught by its proof of work', async () => {
    const ls = lines();
    const i = ls.findIndex((l) => l.startsWith('{"type":"share"'));
    const share = JSON.parse(ls[i]!);
    ls[i] = JSON.stringify({ ...share, nonce: (share.nonce + 1) >>> 0 });
    const run = await auditTampered('altered', rebuild(ls));
    const report = run.out.join('\n');
    assert.match(report, new RegExp(`share ${share.id} \\(${share.member}\\): the header hashes to [0-9a-f]{64}, not to the recorded ${share.hash}`));
  });

  test('a share dropped from the bundle is caught as missing work', async () => {
    const ls = lines();
    const i = ls.findIndex((l) => l.startsWith('{"type":"share"') && l.includes(MEMBER));
    ls.splice(i, 1);
    const run = await auditTampered('dropped', rebuild(ls));
    const report = run.out.join('\n');
    // 3 shares of 1e-6 * 2^32 = 4294.967296 expected hashes each: 12885 credited, 8590 left.
    assert.match(report, new RegExp(`member ${MEMBER}: credited 12885 work, but its 2 valid shares sum to 8590 \\(\\+4295\\)`), report);
    assert.match(report, /trailer: 5 shares stated, 4 in the bundle/);
  });

  test("a member's work inflated in the bundle is caught, and the root no longer matches", async () => {
    const ls = lines();
    const i = ls.findIndex((l) => l.startsWith('{"type":"member"') && l.includes(MEMBER_2));
    const member = JSON.parse(ls[i]!);
    ls[i] = JSON.stringify({ ...member, epochWork: String(BigInt(member.epochWork) + 1_000_000n) });
    const run = await auditTampered('inflated', rebuild(ls));
    const report = run.out.join('\n');
    assert.match(report, new RegExp(`member ${MEMBER_2}: credited ${BigInt(member.epochWork) + 1_000_000n} work, but its 2 valid shares sum to ${member.epochWork} \\(\\+1000000\\)`), report);
    assert.match(report, /root: the bundle recomputes to 0x[0-9a-f]{64}, the chain holds 0x[0-9a-f]{64}/);
  });

  test('bad input ends in one line naming the problem and exit 2', async () => {
    const file = join(dir, 'truncated.ndjson');
    writeFileSync(file, bundle1.slice(0, Math.floor(bundle1.length / 2)));
    const cases: [string[], RegExp][] = [
      [['epoch', '1', '--gateway', gatewayUrl(), '--file', file], /truncated/],
      [['epoch', '9', '--gateway', gatewayUrl(), '--rpc', rpc], /epoch 9 is not published on-chain/],
      [['epoch', '9', '--gateway', gatewayUrl()], /epoch 9 is not closed on this gateway/],
      [['epoch', '1', '--gateway', gatewayUrl(), '--rpc', 'http://127.0.0.1:9'], /RPC unreachable at http:\/\/127\.0\.0\.1:9/],
      [['epoch', '1', '--gateway', 'http://127.0.0.1:9'], /gateway unreachable/],
      [['epoch', 'x'], /usage: dao-audit epoch N/],
    ];
    for (const [argv, expected] of cases) {
      const run = await audit(...argv);
      assert.equal(run.code, 2, `${argv.join(' ')}: exit 2: ${JSON.stringify(run)}`);
      assert.equal(run.err.length, 1, `${argv.join(' ')}: one line`);
      assert.match(run.err[0]!, expected);
    }
  });
});

describe('dao-audit: a gateway on a PostgreSQL ledger', () => {
  const database = useFreshDatabase();
  let chain: TestChain;
  let gateway: Gateway | undefined;

  before(async () => (chain = await startTestChain()));
  after(async () => {
    await gateway?.close();
    await chain?.stop();
  });

  test('its bundles verify against the chain too', async () => {
    gateway = await settleTwoEpochs(chain, { ledger: database().url });
    await assertBothVerify(gateway, chain.anvil.rpcUrl);
  });
});
