// A gateway in a child process for test/settlement-crash.test.ts, started with
//   node --import tsx test/helpers/settlement-child.ts
// and configured by the environment: SETTLEMENT_DATA_DIR, SETTLEMENT_CHAIN_RPC,
// SETTLEMENT_DEPLOYMENT_FILE, SETTLEMENT_PUBLISHER_KEY. It prints one JSON line with its ports,
// then reads commands from stdin: "close" closes an epoch. The root transaction's hook kills the
// process with SIGKILL as soon as the transaction is sent, before the ledger records it: the crash
// the test is about.
import { createInterface } from 'node:readline';
import { DEFAULT_CONFIG } from '../../server/config.js';
import { startGateway } from '../../server/gateway.js';

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`settlement-child: ${name} is not set`);
  return value;
}

const gateway = await startGateway(
  {
    ...DEFAULT_CONFIG,
    httpPort: 0,
    stratumPort: 0,
    dataDir: env('SETTLEMENT_DATA_DIR'),
    startDifficulty: 1e-5,
    minDifficulty: 1e-7,
    logLevel: 'silent',
    chainRpcUrl: env('SETTLEMENT_CHAIN_RPC'),
    chainDeploymentFile: env('SETTLEMENT_DEPLOYMENT_FILE'),
    publisherKey: env('SETTLEMENT_PUBLISHER_KEY'),
    epochSeconds: 30 * 86_400,
    epochReward: '100',
  },
  { settlementHooks: { afterRootSent: () => void process.kill(process.pid, 'SIGKILL') } },
);
process.stdout.write(JSON.stringify({ stratumPort: gateway.stratumPort, httpPort: gateway.httpPort }) + '\n');

for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() !== 'close') continue;
  // The epoch is stored as 'built' and publishing starts in the background; its hook kills us.
  const epoch = await gateway.view.settlement!.closeEpoch();
  process.stdout.write(JSON.stringify({ closed: epoch?.epoch ?? null }) + '\n');
}
await gateway.close();
