// Crash safety of the whole gateway under load: the built dao-gateway, settling on a real chain
// every 10 s, takes shares from 40 miners at once and is killed (SIGKILL) after it has closed an
// epoch. Restarted on the same data directory it must hold every acknowledged share exactly once,
// totals that match the share rows, and carry on settling: each epoch's root on-chain exactly once
// and equal to the ledger's.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { leafAt, leafCountOf } from '../protocol/dao/compact-leaves.js';
import { buildRewardTree } from '../protocol/dao/index.js';
import { writeDeployment } from '../server/chain/deploy.js';
import { startTestChain, type TestChain } from './helpers/chain.js';
import { TestMiner, type FoundShare } from './helpers/test-miner.js';
import { waitFor } from './helpers/wait-for.js';

const BIN = fileURLToPath(new URL('../bin/dao-gateway.mjs', import.meta.url));
const BUILT = fileURLToPath(new URL('../build/node/cli/dao-gateway.js', import.meta.url));
const MINERS = 40;
const MEMBERS = 8;
/** Submissions each miner keeps in flight, so the kill lands between commits and their acks. */
const PIPELINE = 4;
const EPOCH_SECONDS = 10;
const MIN_LOAD_MS = 10_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface GatewayProcess {
  child: ChildProcess;
  stratumPort: number;
  /** The `msg` of every log line so far. */
  log: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let chain: TestChain;
let deploymentFile: string;
let dataDir: string;

before(async () => {
  assert.ok(existsSync(BUILT), `${BUILT} is missing: run "npm run build:node" first`);
  chain = await startTestChain();
  const dir = mkdtempSync(join(tmpdir(), 'crash-under-load-'));
  dataDir = join(dir, 'data');
  deploymentFile = join(dir, 'deployment.json');
  writeDeployment(deploymentFile, chain.deployment);
  // Blocks every 2 s instead of one per transaction: a root transaction waits in the pool for a
  // while after it is sent, so the kill below lands while it is unconfirmed, as on a real chain.
  await chain.provider.send('evm_setAutomine', [false]);
  await chain.provider.send('evm_setIntervalMining', [2]);
});

after(async () => {
  await chain?.stop();
});

/** Starts the built dao-gateway as an operator would, settling on the test chain. */
async function startGatewayProcess(): Promise<GatewayProcess> {
  const args = [
    BIN,
    ...['--http-port', '0', '--stratum-port', '0', '--data-dir', dataDir],
    // One tiny fixed difficulty: shares cost the test nothing to find, and each is worth the same.
    ...['--start-difficulty', '1e-6', '--min-difficulty', '1e-6', '--max-difficulty', '1e-6'],
    ...['--messages-per-second', '100000', '--message-burst', '100000'],
    ...['--chain-rpc', chain.anvil.rpcUrl, '--chain-deployment', deploymentFile, '--publisher-key', chain.anvil.accounts[0]!.privateKey, '--relayer-key', chain.anvil.accounts[1]!.privateKey],
    ...['--epoch-seconds', String(EPOCH_SECONDS), '--epoch-reward', '100', '--log-level', 'info'],
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const log: string[] = [];
  const stratumPort = await new Promise<number>((resolve, reject) => {
    void exited.then(({ code, signal }) => reject(new Error(`dao-gateway exited (${code ?? signal}) before listening: ${stderr}${log.join('\n')}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let entry: { msg?: string; stratum?: string };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return;
      }
      log.push(entry.msg ?? '');
      if (entry.stratum) resolve(Number(entry.stratum.split(':').at(-1)));
    });
  });
  return { child, stratumPort, log, exited };
}

/**
 * The test miners share one WASM engine, which holds one job at a time: finding shares one after
 * another keeps one miner's search from running on another's job.
 */
let hashing: Promise<unknown> = Promise.resolve();
function findInTurn(find: () => Promise<FoundShare>): Promise<FoundShare> {
  const found = hashing.then(find);
  hashing = found.catch(() => {});
  return found;
}

interface Tally {
  /** share hash (the ledger's share_key) → member, for every share the gateway acknowledged. */
  acknowledged: Map<string, string>;
  /** Error replies: none is expected, the kill closes connections instead. */
  errors: string[];
}

/** One miner: finds shares and keeps PIPELINE submissions in flight until told to stop or cut off. */
async function runMiner(port: number, member: string, worker: string, tally: Tally, stopped: () => boolean): Promise<void> {
  const miner = await TestMiner.tcp(port);
  try {
    await miner.login(`${member}.${worker}`);
    const inFlight = new Set<Promise<void>>();
    for (let n = 0; !stopped() && !miner.closed; n++) {
      let share: FoundShare;
      try {
        share = await findInTurn(() => miner.findShare({ worker: `${member}.${worker}`, extranonce2: n.toString(16).padStart(miner.extranonce2Size * 2, '0') }));
      } catch {
        break;
      }
      const submitted = miner.submit(share.params).then(
        (response) => {
          if (response.result === true) tally.acknowledged.set(share.hash, member);
          else tally.errors.push(JSON.stringify(response.error));
        },
        () => {}, // the connection went down under it: not acknowledged, nothing to check
      );
      inFlight.add(submitted);
      void submitted.finally(() => inFlight.delete(submitted));
      if (inFlight.size >= PIPELINE) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } finally {
    miner.close();
  }
}

/** The latest epoch and the highest share id it covers, read from the ledger file. */
function ledgerState(file: string): { epoch: number; lastShareId: number; published: number } {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const last = db.prepare('SELECT epoch, last_share_id FROM epochs ORDER BY epoch DESC LIMIT 1').get() as { epoch: number; last_share_id: number } | undefined;
    const published = db.prepare("SELECT coalesce(max(epoch), 0) AS n FROM epochs WHERE status = 'published'").get() as { n: number };
    return { epoch: last?.epoch ?? 0, lastShareId: last?.last_share_id ?? 0, published: published.n };
  } finally {
    db.close();
  }
}

test(`kill -9 under load from ${MINERS} miners after an epoch closed: no acknowledged share lost or doubled, settlement resumes, one root per epoch`, async (t) => {
  const ledgerFile = join(dataDir, 'ledger.sqlite');
  const members = chain.wallets.slice(0, MEMBERS).map((w) => w.address);
  const tally: Tally = { acknowledged: new Map(), errors: [] };
  const notes: string[] = [];

  // ---- the first run: under load until an epoch has closed, then killed mid-stream
  const first = await startGatewayProcess();
  try {
    let killed = false;
    const began = Date.now();
    const load = Array.from({ length: MINERS }, (_, i) => runMiner(first.stratumPort, members[i % MEMBERS]!, `rig${i}`, tally, () => killed));
    await waitFor('an epoch to close under load', () => first.log.some((m) => /^settlement: epoch \d+ closed/.test(m)), 3 * EPOCH_SECONDS * 1000);
    await sleep(MIN_LOAD_MS - (Date.now() - began));
    // Then the next root transaction: the kill lands right after it is sent, in the window where
    // the ledger may not have recorded it yet, while the shares keep coming.
    const sent = () => first.log.filter((m) => m === 'settlement: root transaction sent').length;
    const sentBefore = sent();
    await waitFor('the next root transaction under load', () => sent() > sentBefore, 2 * EPOCH_SECONDS * 1000 + 5000);
    const ackedAtKill = tally.acknowledged.size;
    first.child.kill('SIGKILL');
    killed = true;
    const exit = await first.exited;
    assert.equal(exit.signal, 'SIGKILL');
    await Promise.all(load);
    notes.push(`killed ${Date.now() - began} ms into the load, right after a root transaction was sent, with ${ackedAtKill} shares acknowledged`);
    notes.push(`log before the kill: ${first.log.filter((m) => m.startsWith('settlement')).join(' | ')}`);
  } finally {
    first.child.kill('SIGKILL');
  }
  for (const note of notes) t.diagnostic(note);
  assert.deepEqual(tally.errors, [], `no share was refused before the kill (${notes.join('; ')})`);
  assert.ok(tally.acknowledged.size >= 200, `a real load: ${tally.acknowledged.size} shares acknowledged before the kill`);
  const atKill = ledgerState(ledgerFile);
  assert.ok(atKill.epoch >= 1, 'an epoch was closed before the kill');

  // ---- the restart on the same data directory: it takes shares again and settles them
  const second = await startGatewayProcess();
  try {
    const afterRestart: Tally = { acknowledged: new Map(), errors: [] };
    let enough = false;
    const load = [0, 1].map((i) => runMiner(second.stratumPort, members[i]!, `back${i}`, afterRestart, () => enough));
    await waitFor('shares after the restart', () => afterRestart.acknowledged.size >= 50, 20_000);
    enough = true;
    await Promise.all(load);
    assert.deepEqual(afterRestart.errors, []);
    t.diagnostic(`restart log: ${second.log.filter((m) => m.startsWith('settlement')).join(' | ')}`);
    for (const [hash, member] of afterRestart.acknowledged) tally.acknowledged.set(hash, member);

    // The next epoch closes at the next boundary and must cover the new shares.
    const lastNewId = (() => {
      const db = new Database(ledgerFile, { readonly: true });
      try {
        const ids = [...afterRestart.acknowledged.keys()].map((h) => (db.prepare('SELECT id FROM shares WHERE share_key = ?').get(h) as { id: number } | undefined)?.id ?? 0);
        return Math.max(...ids);
      } finally {
        db.close();
      }
    })();
    assert.ok(lastNewId > 0, 'the shares after the restart are in the ledger');
    await waitFor(
      'an epoch covering the shares after the restart to be published',
      () => {
        const state = ledgerState(ledgerFile);
        return state.lastShareId >= lastNewId && state.published === state.epoch;
      },
      3 * EPOCH_SECONDS * 1000,
    );
    second.child.kill('SIGTERM');
    assert.deepEqual(await second.exited, { code: 0, signal: null }, 'the restarted gateway stops cleanly');
  } finally {
    second.child.kill('SIGKILL');
  }

  // ---- the ledger: every acknowledged share once, totals that match the rows
  const db = new Database(ledgerFile, { readonly: true });
  try {
    const rows = db.prepare('SELECT id, share_key, member, work FROM shares ORDER BY id').all() as { id: number; share_key: string; member: string; work: number }[];
    const byKey = new Map<string, number>();
    const memberOf = new Map<string, string>();
    for (const r of rows) {
      byKey.set(r.share_key, (byKey.get(r.share_key) ?? 0) + 1);
      memberOf.set(r.share_key, r.member);
    }
    const missing = [...tally.acknowledged.keys()].filter((k) => byKey.get(k) !== 1);
    assert.deepEqual(missing, [], `${missing.length} of ${tally.acknowledged.size} acknowledged shares are not in the ledger exactly once (${notes.join('; ')})`);
    const wrongMember = [...tally.acknowledged].filter(([k, member]) => memberOf.get(k) !== member);
    assert.deepEqual(wrongMember, [], 'each share is credited to the member who found it');
    // Shares committed but whose acknowledgement the kill cut off may be there too; nothing else.
    assert.ok(rows.length - tally.acknowledged.size <= MINERS * PIPELINE, `at most the in-flight shares beyond the acknowledged ones (${rows.length} rows, ${tally.acknowledged.size} acknowledged)`);

    const totals = db.prepare('SELECT member, work, shares FROM member_totals').all() as { member: string; work: number; shares: number }[];
    const sums = db.prepare('SELECT member, total(work) AS work, count(*) AS shares FROM shares GROUP BY member').all() as { member: string; work: number; shares: number }[];
    assert.equal(totals.length, sums.length, 'one member_totals row per member with shares');
    for (const sum of sums) {
      const total = totals.find((t) => t.member === sum.member);
      assert.equal(total?.shares, sum.shares, `member_totals.shares of ${sum.member}`);
      assert.ok(Math.abs(total!.work - sum.work) <= 1e-9 * sum.work, `member_totals.work of ${sum.member}: ${total!.work} vs ${sum.work}`);
    }
    const pool = db.prepare('SELECT shares, members FROM pool_totals').get() as { shares: number; members: number };
    assert.deepEqual(pool, { shares: rows.length, members: sums.length }, 'pool_totals match the rows');

    // ---- the epochs: adjoining share ranges, leaves that are the rows' sums, roots that are the leaves' tree
    const epochs = db.prepare('SELECT epoch, first_share_id, last_share_id, total_work, root, status, tx_hash FROM epochs ORDER BY epoch').all() as {
      epoch: number;
      first_share_id: number;
      last_share_id: number;
      total_work: string;
      root: string;
      status: string;
      tx_hash: string;
    }[];
    assert.ok(epochs.length >= 2, `an epoch before the kill and one after the restart (${epochs.length})`);
    const workIn = db.prepare('SELECT member, sum(work) AS work FROM shares WHERE id > ? AND id <= ? GROUP BY member');
    // epoch_leaves keeps the leaves that changed in each epoch; the whole tree is the epoch's compact chunks.
    const leavesOf = db.prepare('SELECT member, epoch_work, cumulative_work, cumulative_reward FROM epoch_leaves WHERE epoch = ?');
    const chunksOf = db.prepare('SELECT leaves FROM epoch_tree_chunks WHERE epoch = ? ORDER BY chunk').pluck();
    let previousLast = 0;
    const cumulative = new Map<string, bigint>();
    for (const [i, e] of epochs.entries()) {
      assert.equal(e.epoch, i + 1, 'epochs are numbered without gaps');
      assert.equal(e.first_share_id, previousLast, `epoch ${e.epoch} starts where epoch ${e.epoch - 1} ended`);
      previousLast = e.last_share_id;
      assert.equal(e.status, 'published', `epoch ${e.epoch} is published`);
      const leaves = leavesOf.all(e.epoch) as { member: string; epoch_work: string; cumulative_work: string; cumulative_reward: string }[];
      for (const { member, work } of workIn.all(e.first_share_id, e.last_share_id) as { member: string; work: number }[]) {
        const leaf = leaves.find((l) => l.member === member);
        assert.equal(leaf?.epoch_work, String(Math.round(work)), `epoch ${e.epoch}: ${member}'s work is the sum of its share rows`);
      }
      for (const leaf of leaves) {
        const sum = (cumulative.get(leaf.member) ?? 0n) + BigInt(leaf.epoch_work);
        assert.equal(BigInt(leaf.cumulative_work), sum, `epoch ${e.epoch}: ${leaf.member}'s cumulative work`);
        cumulative.set(leaf.member, sum);
      }
      const compact = Buffer.concat(chunksOf.all(e.epoch) as Buffer[]);
      const stored = Array.from({ length: leafCountOf(compact) }, (_, n) => leafAt(compact, n));
      assert.deepEqual(
        stored.map((l) => [l.account, l.cumulativeWork]),
        [...cumulative].sort(([a], [b]) => (a.toLowerCase() < b.toLowerCase() ? -1 : 1)),
        `epoch ${e.epoch}: its tree holds every member's cumulative work so far`,
      );
      const tree = buildRewardTree(stored);
      assert.equal(tree.root, e.root, `epoch ${e.epoch}: the stored root is the tree of its stored leaves`);
      assert.equal(tree.totalWork.toString(), e.total_work);
    }

    // ---- the chain: one RootPublished per epoch, each root the ledger's
    const distributor = chain.contracts.distributor;
    const events = await distributor.queryFilter(distributor.filters['RootPublished']!(), chain.deployment.deployBlock);
    const onChain = events.map((ev) => {
      const args = distributor.interface.parseLog(ev)!.args;
      return { epoch: Number(args[0]), root: String(args[1]), totalWork: String(args[2]), tx: ev.transactionHash };
    });
    assert.deepEqual(
      onChain.map((r) => r.epoch),
      epochs.map((e) => e.epoch),
      `exactly one RootPublished per ledger epoch, in order (${notes.join('; ')})`,
    );
    for (const e of epochs) {
      const root = onChain.find((r) => r.epoch === e.epoch)!;
      assert.equal(root.root, e.root, `epoch ${e.epoch}: the root on-chain is the ledger's`);
      assert.equal(root.totalWork, e.total_work, `epoch ${e.epoch}: totalWork on-chain is the ledger's`);
      assert.equal(root.tx, e.tx_hash, `epoch ${e.epoch}: the ledger records the transaction that published it`);
    }
    assert.equal(await distributor.getFunction('latestEpoch')(), BigInt(epochs.length));
  } finally {
    db.close();
  }
});
