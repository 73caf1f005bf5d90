// npm run cluster -- --gateways N [--balancers M] [--ledger postgres://...] [-- dao-gateway flags]
// Several gateways on one PostgreSQL ledger behind real HAProxy processes on this machine, for
// load runs (npm run load -- --gateway <each balancer's ws URL> ...) and to watch fail-over:
// `kill -9` a gateway and its miners come back through the balancers to the others. Exit status
// 0 after Ctrl-C, 1 when something failed to start or died, 2 on bad options.
import { existsSync } from 'node:fs';
import { UsageError } from '../cli/usage-error.js';
import { redact } from '../server/config.js';
import { startCluster, type Cluster } from './cluster/cluster.js';
import { HAPROXY } from './cluster/haproxy.js';
import { parseClusterArgs, USAGE } from './cluster/options.js';
import { ClusterStatus, formatStatus } from './cluster/status.js';

function describe(cluster: Cluster): string {
  return [
    `ledger: ${redact(cluster.ledger)}${cluster.createdDatabase ? ` (database ${cluster.createdDatabase}, created for this cluster, dropped when it stops)` : ''}`,
    ...cluster.gateways.map((g) => `gateway ${g.instanceId}: pid ${g.pid}, http://127.0.0.1:${g.httpPort}/, stratum+tcp://127.0.0.1:${g.stratumPort}`),
    ...cluster.balancers.map((b) => `haproxy ${b.index}: pid ${b.pid}, config ${b.configFile}`),
    '',
    `miners connect to (about ${cluster.capacity.toLocaleString('en-US')} connections in all):`,
    ...cluster.endpoints.ws.map((url, i) => `  ${url}   ${cluster.endpoints.tcp[i]}`),
    `e.g. npm run load -- --miners 10000 --rate 2000 --seconds 30 --tcp-miners 0 ${cluster.endpoints.ws.map((u) => `--gateway ${u}`).join(' ')}`,
    'Ctrl-C stops everything.',
  ].join('\n');
}

async function main(argv: string[]): Promise<number> {
  const options = parseClusterArgs(argv);
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (!existsSync(HAPROXY)) throw new UsageError(`${HAPROXY} is not installed (apt-get install haproxy)`);
  const cluster = await startCluster(options, { onLine: (source, line) => console.error(`${source}: ${line}`) });
  console.log(describe(cluster));
  const status = new ClusterStatus(cluster);
  await status.read();
  const printing = options.statusSeconds > 0 ? setInterval(() => void status.read().then((rows) => console.log(`${new Date().toISOString()}\n${formatStatus(rows)}`)), options.statusSeconds * 1000) : undefined;

  // Ctrl-C (or SIGTERM) stops it all in order; a process that dies on its own is said, and the rest go on.
  let stopping = false;
  for (const g of cluster.gateways) void g.exited.then((code) => stopping || console.error(`gateway ${g.instanceId} (pid ${g.pid}) exited (${code}); the balancers send its miners to the others`));
  for (const b of cluster.balancers) void b.exited.then((code) => stopping || console.error(`haproxy ${b.index} (pid ${b.pid}) exited (${code}): its miners are cut off`));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  stopping = true;
  clearInterval(printing);
  console.error('stopping: balancers, then gateways, then the database');
  await cluster.stop();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const usage = err instanceof UsageError;
    console.error(`cluster: ${usage ? (err as Error).message : (err as Error).stack ?? String(err)}`);
    process.exit(usage ? 2 : 1);
  },
);
