// startCluster: N gateways (the load generator's gateway, spawned as the real CLI) on one
// PostgreSQL ledger, behind M HAProxy processes. The CLI (scripts/cluster.ts), the cluster test
// and the benchmark runs use it alike.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { redact } from '../../server/config.js';
import { createTestDatabase, type TestDatabase } from '../../test/helpers/pg.js';
import { openFileLimit } from '../load/proc-stats.js';
import { spawnGateway, type SpawnedGateway } from '../load/spawn-gateway.js';
import { balancerCapacity, freePort, startBalancer, type Balancer } from './haproxy.js';
import { clusterGatewayArgs, type ClusterOptions } from './options.js';

export interface ClusterGateway extends SpawnedGateway {
  instanceId: number;
}

export interface Cluster {
  ledger: string;
  /** The database the cluster created (and drops on stop), when no --ledger was given. */
  createdDatabase: string | undefined;
  gateways: ClusterGateway[];
  balancers: Balancer[];
  /** What miners connect to: one WebSocket URL and one Stratum TCP URL per balancer. */
  endpoints: { ws: string[]; tcp: string[] };
  /** Connections the balancers can hold together. */
  capacity: number;
  /** Balancers first (no new connection goes to a stopping gateway), then gateways, then the database. */
  stop(): Promise<void>;
}

export interface ClusterEvents {
  /** A gateway or balancer said something worth seeing (warnings, errors, HAProxy's server state changes). */
  onLine?(source: string, line: string): void;
}

export async function startCluster(options: ClusterOptions, events: ClusterEvents = {}): Promise<Cluster> {
  const onLine = events.onLine ?? (() => undefined);
  const stack: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    while (stack.length) await stack.pop()!().catch(() => undefined);
  };
  try {
    let database: TestDatabase | undefined;
    if (options.ledger === undefined) {
      database = await createTestDatabase();
      stack.push(() => database!.drop());
    }
    const ledger = options.ledger ?? database!.url;
    const gateways = await startGateways(options, ledger, onLine, stack);
    const dir = mkdtempSync(join(tmpdir(), 'dao-cluster-'));
    stack.push(async () => rmSync(dir, { recursive: true, force: true }));
    const maxConnections = balancerCapacity(openFileLimit()?.hard ?? 20_000);
    const balancers: Balancer[] = [];
    for (let index = 1; index <= options.balancers; index++) {
      const port = async (first: number) => (first === 0 ? freePort() : first + index - 1);
      const balancer = await startBalancer(
        { index, httpPort: await port(options.httpPort), stratumPort: await port(options.stratumPort), sourceAddress: `127.1.0.${index}`, maxConnections, gateways },
        dir,
        (line) => onLine(`haproxy ${index}`, line),
      );
      stack.push(() => balancer.stop());
      balancers.push(balancer);
    }
    return {
      ledger,
      createdDatabase: database?.name,
      gateways,
      balancers,
      endpoints: { ws: balancers.map((b) => `ws://127.0.0.1:${b.httpPort}/stratum`), tcp: balancers.map((b) => `stratum+tcp://127.0.0.1:${b.stratumPort}`) },
      capacity: maxConnections * balancers.length,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** All at once: they migrate the same database at the same moment, as a real rollout would. */
async function startGateways(options: ClusterOptions, ledger: string, onLine: (source: string, line: string) => void, stack: (() => Promise<unknown>)[]): Promise<ClusterGateway[]> {
  const started = await Promise.allSettled(
    Array.from({ length: options.gateways }, async (_, i) => {
      const instanceId = i + 1;
      const gateway = await spawnGateway({
        difficulty: options.difficulty,
        connectionsPerAddress: options.perAddress,
        ledgerSynchronous: options.ledgerSynchronous,
        inspect: false,
        extraArgs: clusterGatewayArgs(options, ledger, instanceId),
        onProblem: (_kind, line) => onLine(`gateway ${instanceId}`, line),
      });
      stack.push(() => gateway.stop());
      return Object.assign(gateway, { instanceId });
    }),
  );
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) throw new Error(`a gateway did not start on ledger ${redact(ledger)}: ${(failed.reason as Error).message}`);
  return started.map((s) => (s as PromiseFulfilledResult<ClusterGateway>).value);
}
