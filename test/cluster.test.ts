// Issue 14: two gateways on one PostgreSQL ledger behind a real HAProxy (npm run cluster's parts),
// real load miners through the balancer, and one gateway killed with SIGKILL mid-load. Its miners
// must log in again through the balancer, which sends them to the other gateway, and every share
// the load saw acknowledged must be in the ledger exactly once, credited by the gateway that
// acknowledged it.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { hexToBytes } from '../protocol/hex.js';
import { shareMerkleRoot, verifyShare } from '../protocol/share.js';
import { parseNotifyParams, parseSubmitParams } from '../protocol/stratum-job.js';
import { MAX_TARGET } from '../protocol/target.js';
import { startCluster } from '../scripts/cluster/cluster.js';
import { HAPROXY } from '../scripts/cluster/haproxy.js';
import { parseClusterArgs, type ClusterOptions } from '../scripts/cluster/options.js';
import { runLoad, type Answer } from '../scripts/load.js';
import { queryOnce, useFreshDatabase } from './helpers/pg.js';

const BUILT = fileURLToPath(new URL('../build/node/cli/dao-gateway.js', import.meta.url));
const MINERS = 200;
const RATE = 400;
/** Acknowledgements from the first gateway before it is killed: the load is well under way. */
const ACKED_BEFORE_KILL = 600;
const DIFFICULTY = 1e-10;

const database = useFreshDatabase();

/** The ledger's share_key of an acknowledged share: the hash the gateway computed from what was sent. */
function shareHash(answer: Answer): string {
  const job = parseNotifyParams(answer.job);
  const submission = parseSubmitParams(JSON.parse(answer.params));
  const extranonce1 = hexToBytes(answer.extranonce1, 'extranonce1');
  return verifyShare({ job, extranonce1, difficulty: DIFFICULTY, shareTarget: MAX_TARGET, merkleRoot: shareMerkleRoot(job, extranonce1, submission.extranonce2) }, submission).hash;
}

/** The gateway that handed out this extranonce1: its first byte is the instance id. */
const instanceOf = (answer: Answer) => parseInt(answer.extranonce1.slice(0, 2), 16);

test(
  'two gateways on one PostgreSQL behind HAProxy: kill -9 one mid-load, its miners reconnect to the other, every acknowledged share is in the ledger once',
  { timeout: 90_000 },
  async (t) => {
    assert.ok(existsSync(HAPROXY), `${HAPROXY} is not installed: this test needs Debian's haproxy (apt-get install haproxy; .ci/run installs it)`);
    assert.ok(existsSync(BUILT), `${BUILT} is missing: run "npm run build:node" first`);
    const options = parseClusterArgs(['--gateways', '2', '--balancers', '1', '--ledger', database().url, '--per-address', '50', '--status-seconds', '0']) as ClusterOptions;
    const lines: string[] = [];
    const cluster = await startCluster(options, { onLine: (source, line) => lines.push(`${source}: ${line}`) });
    t.after(() => cluster.stop());
    const [first, second] = cluster.gateways;

    const answers: Answer[] = [];
    let ackedByFirst = 0;
    let killedAfter: number | undefined;
    const onAnswer = (answer: Answer) => {
      answers.push(answer);
      if (answer.accepted && instanceOf(answer) === 1) ackedByFirst++;
      if (killedAfter === undefined && ackedByFirst >= ACKED_BEFORE_KILL) {
        process.kill(first!.pid, 'SIGKILL');
        killedAfter = answers.length;
      }
    };
    const summary = await runLoad({
      miners: MINERS - 1,
      tcpMiners: 1,
      rate: RATE,
      seconds: 10,
      warmupSeconds: 1,
      perAddress: 50,
      gatewayUrl: cluster.endpoints.ws,
      stratumUrl: cluster.endpoints.tcp,
      reconnect: true,
      onAnswer,
    });
    t.diagnostic(`interruptions: ${JSON.stringify(summary.interruptions)}; HAProxy: ${lines.filter((l) => l.startsWith('haproxy')).join(' | ')}`);

    assert.ok(killedAfter !== undefined, `gateway 1 was killed under load (${ackedByFirst} acknowledged by it)`);
    assert.equal(await first!.exited, 'SIGKILL');
    assert.equal(summary.miners.connected, MINERS, 'every miner logged in through the balancer');
    assert.deepEqual(summary.errors, {}, 'no error but the drops the kill caused');
    assert.deepEqual(summary.rejected, {}, 'no share refused, before or after the kill');
    const before = answers.slice(0, killedAfter);
    const after = answers.slice(killedAfter);
    const onFirst = new Set(before.filter((a) => instanceOf(a) === 1).map((a) => a.miner));
    assert.ok(onFirst.size >= MINERS / 4, `the balancer gave gateway 1 its share of the miners (${onFirst.size})`);
    const movedToSecond = new Set(after.filter((a) => a.accepted && instanceOf(a) === 2).map((a) => a.miner));
    const stranded = [...onFirst].filter((m) => !movedToSecond.has(m));
    assert.deepEqual(stranded, [], `every miner of the killed gateway had shares acknowledged by gateway 2 afterwards (${onFirst.size} moved)`);
    const drops = Object.entries(summary.interruptions).filter(([kind]) => kind.startsWith('connection closed')).reduce((n, [, count]) => n + count, 0);
    assert.equal(drops, onFirst.size, 'the miners of the killed gateway, and only they, were cut off');
    const health = (await (await fetch(`http://127.0.0.1:${second!.httpPort}/healthz`)).json()) as { status: string };
    assert.equal(health.status, 'ok', 'the surviving gateway is healthy');

    // ---- the ledger: every acknowledged share exactly once, from the gateway that acknowledged it
    const acked = answers.filter((a) => a.accepted);
    const hashes = acked.map(shareHash);
    assert.equal(new Set(hashes).size, hashes.length, 'no share was acknowledged twice');
    const rows = await queryOnce<{ share_key: string; gateway_id: number; n: number }>(database().url, 'SELECT share_key, min(gateway_id) AS gateway_id, count(*)::int AS n FROM shares GROUP BY share_key');
    const inLedger = new Map(rows.map((r) => [r.share_key, r]));
    const missing = acked.filter((_, i) => inLedger.get(hashes[i]!)?.n !== 1);
    assert.deepEqual(missing.length, 0, `${missing.length} of ${acked.length} acknowledged shares are not in the ledger exactly once`);
    const wrongGateway = acked.filter((a, i) => inLedger.get(hashes[i]!)!.gateway_id !== instanceOf(a));
    assert.equal(wrongGateway.length, 0, 'each share is recorded by the gateway that acknowledged it');
    // Rows beyond the acknowledged ones can only be shares the kill cut off after their commit.
    const unanswered = summary.interruptions['shares unanswered when their connection closed (not acknowledged)'] ?? 0;
    assert.ok(rows.length - acked.length <= unanswered, `${rows.length} rows for ${acked.length} acknowledged shares and ${unanswered} unanswered at the kill`);
    assert.ok(acked.length >= 2000, `a real load: ${acked.length} shares acknowledged`);
  },
);

test('npm run cluster refuses bad arguments with the reason', () => {
  const refused = (argv: string[], message: RegExp) => assert.throws(() => parseClusterArgs(argv), (err: Error) => (assert.match(err.message, message, argv.join(" ")), true));
  refused([], /^--gateways is required/);
  refused(['--gateways', '0'], /^--gateways: 0 is outside 1\.\.255$/);
  refused(['--gateways', 'two'], /^--gateways: "two" is not a non-negative integer$/);
  refused(['--gateways', '2', '--balancers', '65'], /^--balancers: 65 is outside 1\.\.64$/);
  refused(['--gateways', '2', '--ledger', 'sqlite'], /^--ledger: gateways sharing a ledger need PostgreSQL/);
  refused(['--gateways', '2', '--ledger', 'postgres:///dao'], /^gateway flags after --: --ledger: "postgres:\/\/\/dao" names no host/);
  refused(['--gateways', '2', '--http-port', '8000', '--stratum-port', '8001', '--balancers', '2'], /ranges overlap/);
  refused(['--gateways', '2', '--http-port', '65535', '--balancers', '2'], /past 65535/);
  refused(['--gateways', '2', '--', '--instance-id', '7'], /--instance-id is set by the cluster/);
  refused(['--gateways', '2', '--', '--max-connections-per-ip', 'x'], /^gateway flags after --: --max-connections-per-ip: "x" is not a whole number$/);
  refused(['--gateways', '2', '--', '--no-such-flag', '1'], /^gateway flags after --: Unknown option '--no-such-flag'/);
  const ok = parseClusterArgs(['--gateways', '3', '--balancers', '2', '--', '--epoch-seconds', '60']);
  assert.ok(ok !== 'help' && ok.gateways === 3 && ok.balancers === 2 && ok.ledger === undefined && ok.gatewayArgs.join(' ') === '--epoch-seconds 60');
});
