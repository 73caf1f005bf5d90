// Settlement and relaying on a PostgreSQL ledger shared by two gateways, on a REAL PostgreSQL (a
// fresh database for this file) and a REAL anvil chain: shares written by two PgLedger instances
// (two gateways' ledgers) are closed into one root; a share committed after a close's transaction
// lands in the next epoch, and no share is lost or counted twice; exactly one of the two
// settlements leads; killing the leader's lock connection hands leadership to the other, which
// publishes the next epoch without a second root for any epoch; a vote accepted by the follower is
// submitted by the leader.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Wallet, type Contract } from 'ethers';
import pg from 'pg';
import { pino } from 'pino';
import { BALLOT_TYPES, ProposalKind, VoteSupport, governorDomain, verifyRewardProof } from '../protocol/dao/index.js';
import { writeDeployment } from '../server/chain/deploy.js';
import { openDaoChain, type DaoChain } from '../server/chain/open-chain.js';
import { DEFAULT_CONFIG, type GatewayConfig } from '../server/config.js';
import type { ShareRecord } from '../server/ledger/ledger.js';
import { PgBackend } from '../server/backend/pg-backend.js';
import { openPgLedger, type PgLedger } from '../server/ledger/pg/pg-ledger.js';
import { startRelayer, type Relayer } from '../server/relayer/relayer.js';
import { PgLeaderElection, SETTLEMENT_LEADER_LOCK } from '../server/settlement/leader.js';
import { NotLeaderError, startSettlement, type Settlement } from '../server/settlement/settlement.js';
import type { EpochSummary } from '../server/settlement/settlement-store.js';
import { mined, startTestChain, type TestChain } from './helpers/chain.js';
import { createTestDatabase, queryOnce, type TestDatabase } from './helpers/pg.js';
import { waitFor } from './helpers/wait-for.js';

/** How often a follower tries for the leader lock (the default is 5 s; short here). */
const RETRY_MS = 250;
/** Integral work per share: rounding per member then changes nothing, so totals compare exactly. */
const WORK = 2 ** 20;
const log = pino({ level: process.env.DAO_TEST_LOG ?? 'silent' });

let testDatabase: TestDatabase | undefined;
const database = (): TestDatabase => testDatabase!;
let chain: TestChain;
let deploymentFile: string;
let members: Wallet[];

/** One gateway's part: its own ledger connection pool, chain connection, settlement and relayer. */
interface Node {
  instanceId: number;
  ledger: PgLedger;
  backend: PgBackend;
  chain: DaoChain;
  settlement: Settlement;
  relayer: Relayer;
  /** What the settlement's afterRootSent hook does (replaced by tests). */
  hooks: { afterRootSent: (epoch: number, txHash: string) => Promise<void> };
}
let a: Node;
let b: Node;

async function startNode(instanceId: number, relayerKey: string): Promise<Node> {
  const ledger = await openPgLedger(database().url, { instanceId });
  const backend = new PgBackend(ledger, instanceId);
  const config: GatewayConfig = {
    ...DEFAULT_CONFIG,
    instanceId,
    logLevel: 'silent',
    ledger: database().url,
    chainRpcUrl: chain.anvil.rpcUrl,
    chainDeploymentFile: deploymentFile,
    publisherKey: chain.anvil.accounts[0]!.privateKey,
    relayerKey,
    // Far longer than the test: only closeEpoch() closes.
    epochSeconds: 30 * 86_400,
    epochReward: '100',
    relayIntervalMs: 3_600_000,
  };
  const daoChain = await openDaoChain(config, log);
  const hooks = { afterRootSent: async (_epoch: number, _txHash: string) => {} };
  const settlement = await startSettlement({
    chain: daoChain,
    store: await backend.settlementStore(log),
    leadership: backend.leadership({ log, retryMs: RETRY_MS }),
    log,
    config,
    retry: { initialMs: 100, maxMs: 1000 },
    hooks: { afterRootSent: (epoch, txHash) => hooks.afterRootSent(epoch, txHash) },
  });
  const relayer = await startRelayer({ chain: daoChain, store: await backend.relayStorage(log), leadership: settlement.leadership, log, config });
  return { instanceId, ledger, backend, chain: daoChain, settlement, relayer, hooks };
}

const stoppedNodes = new Set<Node>();

async function stopNode(node: Node | undefined): Promise<void> {
  if (!node || stoppedNodes.has(node)) return;
  stoppedNodes.add(node);
  await node.relayer?.stop();
  await node.settlement?.stop();
  node.chain.close();
  await node.ledger.close();
}

before(async () => {
  // Created here rather than in a hook of its own: the file's hooks must run in this order.
  testDatabase = await createTestDatabase();
  chain = await startTestChain();
  members = chain.wallets.slice(0, 4);
  deploymentFile = join(mkdtempSync(join(tmpdir(), 'pg-settlement-')), 'deployment.json');
  writeDeployment(deploymentFile, chain.deployment);
  // A starts first and takes the lock at once; B finds it taken.
  a = await startNode(1, chain.anvil.accounts[8]!.privateKey);
  b = await startNode(2, chain.anvil.accounts[9]!.privateKey);
});

after(async () => {
  await stopNode(a);
  await stopNode(b);
  await chain?.stop();
  await testDatabase?.drop();
});

let shareSeq = 0;
function share(member: string, work = WORK): ShareRecord {
  const n = shareSeq++;
  return { member, worker: 'rig', sessionId: `s${n}`, jobId: 'job', difficulty: work / 2 ** 32, work, hash: '00'.repeat(32), acceptedAtMs: Date.now(), shareKey: `pg-settlement-${n}` };
}

async function append(node: Node, member: string, count: number, work = WORK): Promise<void> {
  const results = await Promise.all(Array.from({ length: count }, () => node.ledger.appendShare(share(member, work))));
  assert.ok(results.every((fresh) => fresh === true), 'every share is new');
}

function published(node: Node, epoch: number): Promise<EpochSummary> {
  return waitFor(`epoch ${epoch} published`, async () => {
    const record = await node.settlement.store.epoch(epoch);
    return record?.status === 'published' ? record : undefined;
  });
}

const leaderOf = () => [a, b].filter((node) => node.settlement.isLeader);
const rootEvents = (epoch: number) => chain.contracts.distributor.queryFilter(chain.contracts.distributor.filters['RootPublished']!(epoch), chain.deployment.deployBlock);

/** Work per member and epoch, as the shares table holds it. */
async function workByEpochAndMember(): Promise<{ epoch: number | null; member: string; work: number; shares: number }[]> {
  return queryOnce(database().url, `SELECT epoch, member, sum(work) AS work, count(*)::int AS shares FROM shares GROUP BY epoch, member ORDER BY epoch, member`);
}

/** The pid of each session holding the settlement leader's advisory lock. */
async function lockHolders(): Promise<number[]> {
  const key = SETTLEMENT_LEADER_LOCK;
  const rows = await queryOnce<{ pid: number }>(
    database().url,
    `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1 AND objid = $2 AND objsubid = 1`,
    [Number(key >> 32n), Number(key & 0xffffffffn)],
  );
  return rows.map((r) => r.pid);
}

function lockPidOf(node: Node): number {
  const pid = (node.settlement.leadership as PgLeaderElection).backendPid;
  assert.ok(pid, `instance ${node.instanceId} has a lock session`);
  return pid;
}

async function killLockSession(node: Node): Promise<void> {
  const pid = lockPidOf(node);
  const [row] = await queryOnce<{ killed: boolean }>(database().url, 'SELECT pg_terminate_backend($1) AS killed', [pid]);
  assert.equal(row?.killed, true);
}

test('of two settlements on one database exactly one leads; closing on the follower refuses', async () => {
  assert.equal(a.settlement.isLeader, true, 'the first one took the lock');
  assert.equal(b.settlement.isLeader, false);
  assert.deepEqual(await lockHolders(), [lockPidOf(a)], "one session holds the lock: the leader's");
  const [activity] = await queryOnce<{ application_name: string }>(database().url, 'SELECT application_name FROM pg_stat_activity WHERE pid = $1', [lockPidOf(a)]);
  assert.equal(activity?.application_name, 'dao-settlement-leader-1', 'an operator can find the lock session');

  await append(b, members[0]!.address, 1);
  await assert.rejects(b.settlement.closeEpoch(), (err: Error) => {
    assert.ok(err instanceof NotLeaderError);
    assert.equal(err.message, 'this gateway (instance 2) is not the settlement leader: the leader among the gateways sharing this ledger closes and publishes epochs');
    return true;
  });
  // A few retry rounds later nothing changed: the follower keeps trying and keeps failing.
  await new Promise((resolve) => setTimeout(resolve, 3 * RETRY_MS));
  assert.deepEqual(leaderOf(), [a]);
  assert.equal(await b.settlement.store.lastEpoch(), undefined, 'the refused close stored nothing');
  assert.equal((await b.settlement.store.pendingWork()).shares, 1, 'its share is still pending');
});

test('shares written by two gateways close into one root on-chain, every leaf verifies, and the follower serves the same epoch', async () => {
  const [m0, m1, m2] = members as [Wallet, Wallet, Wallet];
  // m1 works on both gateways; fractional work on m2 is rounded per member over the epoch.
  await append(a, m0.address, 2);
  await append(a, m1.address, 1);
  await append(b, m1.address, 3);
  await append(b, m2.address, 3, 0.4);

  const closed = await a.settlement.closeEpoch();
  assert.equal(closed?.epoch, 1);
  assert.equal(closed.firstShareId, null, 'PostgreSQL epochs are not id ranges');
  const epoch = await published(a, 1);
  const onChain = await chain.contracts.distributor.getFunction('epochs')(1);
  assert.equal(onChain.root, epoch.root);
  assert.equal(onChain.totalWork, epoch.totalWork);

  const work = await workByEpochAndMember();
  assert.ok(work.every((row) => row.epoch === 1), 'every committed share went into epoch 1');
  const expected = new Map([
    [m0.address, 3n * BigInt(WORK)], // two now, one from the refused close of the previous test
    [m1.address, 4n * BigInt(WORK)],
    [m2.address, 1n], // 3 × 0.4 = 1.2 → 1
  ]);
  assert.equal(epoch.members, 3);
  assert.equal(epoch.epochWork, [...expected.values()].reduce((x, y) => x + y));
  for (const [member, memberWork] of expected) {
    const leaf = (await a.settlement.store.leaf(1, member))!;
    assert.equal(leaf.epochWork, memberWork, member);
    assert.equal(leaf.cumulativeWork, memberWork);
    assert.equal(await chain.contracts.distributor.getFunction('verifyLeaf')(1, member, leaf.cumulativeWork, leaf.cumulativeReward, leaf.proof), true);
    assert.equal(verifyRewardProof(epoch.root, { account: member, ...leaf }), true);
    assert.deepEqual(await b.settlement.store.leaf(1, member), leaf, 'the follower reads the same leaf from the shared tables');
  }
  assert.deepEqual(await b.settlement.store.epoch(1), epoch);
  assert.equal((await b.settlement.currentEpoch()).epoch, 2);
  assert.equal((await rootEvents(1)).length, 1);
});

test('a share committed after the close read the pending shares lands in the next epoch', async () => {
  const member = members[3]!.address;
  // A gateway's batch that is still open while the close runs.
  const late = new pg.Client({ connectionString: database().url });
  late.on('error', () => {});
  await late.connect();
  try {
    await late.query('BEGIN');
    await late.query(
      `INSERT INTO shares (share_key, member, worker, session_id, job_id, difficulty, work, hash, accepted_at_ms, gateway_id)
       VALUES ('late-share', $1, 'rig', 's', 'job', 1, $2, $3, $4, 2)`,
      [member, WORK, '00'.repeat(32), Date.now()],
    );
    await append(a, member, 1);
    const closed = await a.settlement.closeEpoch();
    assert.equal(closed?.epoch, 2, 'the close does not wait for the open batch');
    await late.query('COMMIT');
  } finally {
    await late.end();
  }
  const [row] = await queryOnce<{ epoch: number | null }>(database().url, `SELECT epoch FROM shares WHERE share_key = 'late-share'`);
  assert.equal(row?.epoch, null, 'committed after the close: pending');
  assert.equal((await a.settlement.store.leaf(2, member))!.epochWork, BigInt(WORK), 'epoch 2 has only the share committed before it');

  assert.equal((await a.settlement.closeEpoch())?.epoch, 3);
  const [settled] = await queryOnce<{ epoch: number | null }>(database().url, `SELECT epoch FROM shares WHERE share_key = 'late-share'`);
  assert.equal(settled?.epoch, 3);
  assert.equal((await a.settlement.store.leaf(3, member))!.epochWork, BigInt(WORK));
  await published(a, 3);
});

test('under a stream of shares from both gateways while epochs close, every share lands in exactly one epoch', async () => {
  let running = true;
  const acknowledged: string[] = [];
  const producer = async (node: Node, member: string) => {
    while (running) {
      const record = share(member);
      if (await node.ledger.appendShare(record)) acknowledged.push(record.shareKey);
    }
  };
  const producers = [a, b].flatMap((node) => members.map((m) => producer(node, m.address)));
  const closedEpochs: number[] = [];
  for (let i = 0; i < 4; i++) {
    await new Promise((resolve) => setTimeout(resolve, 60));
    const closed = await a.settlement.closeEpoch();
    if (closed) closedEpochs.push(closed.epoch);
  }
  running = false;
  await Promise.all(producers);
  const last = await a.settlement.closeEpoch();
  assert.ok(last, 'the shares acknowledged after the last close in the loop');
  closedEpochs.push(last.epoch);
  assert.deepEqual(closedEpochs, [4, 5, 6, 7, 8]);
  assert.ok(acknowledged.length > 100, `a real stream (${acknowledged.length} shares)`);
  await published(a, 8);

  const pending = await queryOnce<{ n: number }>(database().url, 'SELECT count(*)::int AS n FROM shares WHERE epoch IS NULL');
  assert.equal(pending[0]?.n, 0, 'no share left out');
  const rows = await queryOnce<{ share_key: string; epoch: number }>(database().url, 'SELECT share_key, epoch FROM shares WHERE share_key = ANY($1)', [acknowledged]);
  assert.equal(rows.length, acknowledged.length, 'every acknowledged share is in the ledger');
  const counted = await queryOnce<{ shares: number }>(database().url, 'SELECT sum(shares)::int AS shares FROM epochs');
  const total = await queryOnce<{ n: number }>(database().url, 'SELECT count(*)::int AS n FROM shares');
  assert.equal(counted[0]?.shares, total[0]?.n, "the epochs' share counts add up to the share rows: none counted twice");

  // Per member: each epoch's leaf is the (rounded) work of exactly that epoch's shares, and the
  // cumulative leaf of the last epoch is the sum over all epochs.
  const work = await workByEpochAndMember();
  for (const m of members) {
    let sum = 0n;
    for (let epoch = 1; epoch <= 8; epoch++) {
      const shares = work.find((row) => row.epoch === epoch && row.member === m.address);
      const leaf = await a.settlement.store.leaf(epoch, m.address);
      const expected = BigInt(Math.round(shares?.work ?? 0));
      assert.equal(leaf?.epochWork ?? 0n, expected, `${m.address} in epoch ${epoch}`);
      sum += expected;
      if (leaf) assert.equal(leaf.cumulativeWork, sum);
    }
    const all = work.filter((row) => row.member === m.address).reduce((total, row) => total + row.work, 0);
    assert.equal(sum, BigInt(Math.round(all)), `the epochs of ${m.address} add up to its total work`);
  }
});

test('a vote accepted by the follower is submitted by the leader', async () => {
  const [proposer, voter] = members as [Wallet, Wallet];
  const epoch = (await a.settlement.store.latestPublished())!.epoch;
  const leafOf = async (wallet: Wallet) => {
    const leaf = (await a.settlement.store.leaf(epoch, wallet.address))!;
    return { cumulativeWork: leaf.cumulativeWork, cumulativeReward: leaf.cumulativeReward, proof: leaf.proof };
  };
  const governor = chain.contracts.governor.connect(proposer) as Contract;
  await mined(governor.getFunction('propose')({ kind: ProposalKind.Signal, epoch, parameter: '0x' + '00'.repeat(32), value: 0, description: 'two gateways' }, await leafOf(proposer)));
  const proposalId = (await chain.contracts.governor.getFunction('proposalCount')()) as bigint;
  const domain = governorDomain(chain.deployment.chainId, chain.deployment.governor);
  const signature = await voter.signTypedData(domain, BALLOT_TYPES, { proposalId, support: VoteSupport.For, voter: voter.address });

  const accepted = await b.relayer.submitVote({ proposalId: proposalId.toString(), support: VoteSupport.For, voter: voter.address, signature });
  assert.equal(accepted.status, 'queued');
  const followerNonce = await chain.provider.getTransactionCount(b.relayer.address);
  await b.relayer.flush();
  assert.equal(await chain.provider.getTransactionCount(b.relayer.address), followerNonce, 'the follower sends nothing');
  assert.equal((await b.relayer.requests('vote', voter.address))[0]?.status, 'queued');
  // Two gateways accepting the same ballot end with one request.
  await assert.rejects(a.relayer.submitVote({ proposalId: proposalId.toString(), support: VoteSupport.For, voter: voter.address, signature }), /is already queued/);

  await a.relayer.flush();
  const [record] = await b.relayer.requests('vote', voter.address);
  assert.equal(record?.status, 'confirmed', JSON.stringify(record));
  assert.equal((await chain.provider.getTransaction(record.txHash!))?.from, a.relayer.address, "the leader's relayer paid");
  assert.equal(await chain.contracts.governor.getFunction('hasVoted')(proposalId, voter.address), true);
});

test("killing the leader's lock connection hands leadership to the follower, which publishes the next epoch; no epoch gets two roots", async () => {
  const killedAt = Date.now();
  await killLockSession(a);
  await waitFor('the leader to notice', async () => !a.settlement.isLeader, 2000);
  await waitFor('the follower to take over', async () => b.settlement.isLeader, RETRY_MS + 2000);
  const takeoverMs = Date.now() - killedAt;
  assert.ok(takeoverMs <= RETRY_MS + 1000, `took over in ${takeoverMs} ms (retry every ${RETRY_MS} ms)`);
  assert.deepEqual(await lockHolders(), [lockPidOf(b)]);
  await assert.rejects(a.settlement.closeEpoch(), NotLeaderError);
  // The deposed leader keeps trying, and keeps failing while B holds the lock.
  await new Promise((resolve) => setTimeout(resolve, 4 * RETRY_MS));
  assert.deepEqual(leaderOf(), [b]);

  await append(a, members[0]!.address, 2);
  const closed = await b.settlement.closeEpoch();
  assert.equal(closed?.epoch, 9);
  const epoch = await published(b, 9);
  assert.equal((await chain.contracts.distributor.getFunction('epochs')(9)).root, epoch.root);
  for (let n = 1; n <= 9; n++) assert.equal((await rootEvents(n)).length, 1, `one root for epoch ${n}`);
});

test('leadership lost in the middle of a publish: the new leader reconciles, and the epoch still has one root', async () => {
  // B sends the root of epoch 10 and loses its lock connection right then.
  b.hooks.afterRootSent = async () => {
    b.hooks.afterRootSent = async () => {};
    await killLockSession(b);
    await waitFor('B to notice', async () => !b.settlement.isLeader, 2000);
  };
  await append(b, members[1]!.address, 1);
  assert.equal((await b.settlement.closeEpoch())?.epoch, 10);
  await waitFor('A to take over', async () => a.settlement.isLeader, RETRY_MS * 3 + 2000);
  const epoch = await published(a, 10);
  assert.equal((await rootEvents(10)).length, 1, 'one root for epoch 10');
  assert.equal((await chain.contracts.distributor.getFunction('epochs')(10)).root, epoch.root);
  assert.equal(a.settlement.problem, undefined);
  assert.equal(b.settlement.problem, undefined);

  await append(b, members[2]!.address, 1);
  assert.equal((await a.settlement.closeEpoch())?.epoch, 11);
  await published(a, 11);
  assert.equal((await rootEvents(11)).length, 1);
  assert.deepEqual(leaderOf(), [a]);
});

test('a leader that stops releases the lock at once, and the follower takes over and settles', async () => {
  assert.deepEqual(leaderOf(), [a]);
  await stopNode(a);
  assert.deepEqual(await lockHolders(), [], 'the lock went with the session');
  await waitFor('B to take over', async () => b.settlement.isLeader, RETRY_MS + 2000);
  await append(b, members[3]!.address, 1);
  assert.equal((await b.settlement.closeEpoch())?.epoch, 12);
  await published(b, 12);
  assert.equal((await rootEvents(12)).length, 1);
});

test('the settlement and the leader election refuse a configuration they cannot run', async () => {
  assert.throws(() => new PgLeaderElection({ pool: b.ledger.pool, log, retryMs: 0 }), /leader retryMs must be a positive integer, got 0/);
  assert.throws(() => b.backend.leadership({ log, retryMs: 0 }), /leader retryMs must be a positive integer, got 0/);
  const config = { ...DEFAULT_CONFIG, epochSeconds: 0 };
  await assert.rejects(
    startSettlement({ chain: b.chain, store: await b.backend.settlementStore(log), leadership: b.backend.leadership({ log }), log, config }),
    /epochSeconds must be a positive integer, got 0/,
  );
});
