import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ParseArgsConfig } from 'node:util';
import Database from 'better-sqlite3';
import { JsonRpcProvider, Wallet } from 'ethers';
import { startAnvil, type Anvil } from '../server/chain/anvil.js';
import { contractsFingerprint } from '../server/chain/artifacts.js';
import { deployDao, readDeployment, writeDeployment, type DaoDeployment } from '../server/chain/deploy.js';
import { ConfigError, envName, loadConfig, SETTINGS } from '../server/config.js';
import { startGateway, type Gateway } from '../server/gateway.js';
import { tuneHeapForManyConnections } from '../server/heap-tuning.js';
import { parseOptions } from './args.js';
import { startDemoPartner, type DemoPartner } from './demo-partner.js';
import { helpLine, settingsHelp } from './settings-help.js';
import { UsageError } from './usage-error.js';

const OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  ...Object.fromEntries(SETTINGS.map((s) => [s.flag, { type: 'string' as const }])),
};

/** The local demo's pace: an epoch closes every two minutes and a vote lasts ten. */
const LOCAL_EPOCH_SECONDS = '120';
const LOCAL_VOTING_PERIOD_SECONDS = 600;
/**
 * An empty block this often besides the one per transaction (anvil's mixed mining): the contract
 * judges time by the latest block, and a chain that mines only on transactions would leave a
 * finished vote Active, and its countdown frozen, until someone sent something.
 */
const LOCAL_BLOCK_SECONDS = 2;

/** The settings local mode fills in or changes, as dao-local --help shows them. */
const LOCAL_CHANGES: Readonly<Record<string, string>> = {
  'chain-rpc': 'the local anvil, always',
  'chain-deployment': 'DATA_DIR/chain/deployment.json (deployed on first start), always',
  'publisher-key': "anvil's first development key, always",
  'relayer-key': 'may be the publisher key (local mode allows it)',
  'chain-public-rpc': 'the local anvil',
  'epoch-seconds': LOCAL_EPOCH_SECONDS,
};

const USAGE = `usage: npm start [-- options]   (node bin/dao-local.mjs [options])

Runs the whole DAO on this machine: a local chain (anvil, kept in DATA_DIR/chain), the DAO
contracts and a test reward token deployed on it, and the pool gateway with the practice work
source, settlement every ${LOCAL_EPOCH_SECONDS} s and the relayer, serving the web app; and a demo
partner page embedding the widget from another site (127.0.0.2), to try the widget as partners do.

Every option can also be set in a JSON config file (--config, same names) or as an environment
variable (--http-port is DAO_GATEWAY_HTTP_PORT), as for dao-gateway. [here: ...] is what local mode
uses instead of the gateway's default; where it says "always", no flag changes it.
The chain keys are anvil's public development keys: never use them for anything real.

${settingsHelp(LOCAL_CHANGES)}
${helpLine('payout-script', 'scriptPubKey (hex) the block reward pays, with a node source')}
${helpLine('config', `a JSON config file (or ${envName('config')})`)}`;

/** Runs the local DAO until SIGINT or SIGTERM; returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  let flags: Record<string, string | undefined> & { help?: boolean };
  try {
    flags = parseOptions(argv, OPTIONS) as typeof flags;
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`dao-local: ${err.message}`);
      return 2;
    }
    throw err;
  }
  if (flags.help) {
    console.log(USAGE);
    return 0;
  }
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });

  const dataDir = flags['data-dir'] ?? process.env[envName('data-dir')] ?? '.data';
  const chainDir = join(dataDir, 'chain');
  mkdirSync(chainDir, { recursive: true });
  let anvil: Anvil | undefined;
  let gateway: Gateway | undefined;
  let demo: DemoPartner | undefined;
  try {
    anvil = await startAnvil({
      stateFile: join(chainDir, 'anvil-state.json'),
      stateIntervalSeconds: 5,
      blockTimeSeconds: LOCAL_BLOCK_SECONDS,
      mixedMining: true,
    });
    const deploymentFile = join(chainDir, 'deployment.json');
    const deployment = await ensureDeployment(anvil, deploymentFile, join(dataDir, 'ledger.sqlite'));
    const { help: _help, ...settings } = flags;
    const config = loadConfig({
      ...settings,
      'data-dir': dataDir,
      'chain-rpc': anvil.rpcUrl,
      'chain-deployment': deploymentFile,
      'publisher-key': anvil.accounts[0]!.privateKey,
      'epoch-seconds': flags['epoch-seconds'] ?? process.env[envName('epoch-seconds')] ?? LOCAL_EPOCH_SECONDS,
      // Local mode: the browser reads the local anvil, which has no credentials to leak.
      'chain-public-rpc': flags['chain-public-rpc'] ?? process.env[envName('chain-public-rpc')] ?? anvil.rpcUrl,
    }, process.env, { local: true });
    tuneHeapForManyConnections();
    gateway = await startGateway(config);
    demo = await startDemoPartner(new URL(gateway.httpUrl).origin, gateway.view.webRoot);
    console.log(
      [
        '',
        `  The Computing Power DAO runs locally. Open ${gateway.httpUrl}`,
        `  chain ${deployment.chainId} at ${anvil.rpcUrl}: distributor ${deployment.distributor}, governor ${deployment.governor}, treasury ${deployment.treasury}`,
        `  a partner site embedding the widget (another site, so the widget is third-party there): ${demo.url}`,
        `  an epoch closes every ${config.epochSeconds} s; stop with Ctrl-C`,
        '',
      ].join('\n'),
    );
  } catch (err) {
    // ethers errors carry the whole transaction in `message`; `shortMessage` is the readable part.
    const message = (err as { shortMessage?: string }).shortMessage ?? (err instanceof ConfigError || err instanceof Error ? err.message : String(err));
    console.error(`dao-local: could not start: ${message.split('\n')[0]}`);
    await demo?.close();
    await gateway?.close();
    await anvil?.stop();
    return 1;
  }
  await stopped;
  await demo?.close();
  await gateway.close();
  await anvil.stop();
  return 0;
}

/**
 * Reuses the deployment recorded in the data folder when the chain still holds it and it was made
 * from the contracts built now; deploys afresh otherwise. A fresh deployment beside a ledger that already settled epochs would leave those
 * epochs pointing at a chain that is gone, so that case stops with instructions instead.
 */
async function ensureDeployment(anvil: Anvil, deploymentFile: string, ledgerFile: string): Promise<DaoDeployment> {
  const provider = new JsonRpcProvider(anvil.rpcUrl, anvil.chainId, { staticNetwork: true, cacheTimeout: -1 });
  try {
    const fingerprintFile = `${deploymentFile}.contracts-sha256`;
    const fingerprint = contractsFingerprint();
    if (existsSync(deploymentFile)) {
      const sameContracts = existsSync(fingerprintFile) && readFileSync(fingerprintFile, 'utf8').trim() === fingerprint;
      if (sameContracts) {
        const recorded = readDeployment(deploymentFile);
        if (recorded.chainId === anvil.chainId && (await provider.getCode(recorded.governor)) !== '0x') return recorded;
      }
      // Deploying afresh would leave the ledger's settled epochs pointing at contracts it no longer uses.
      if (settledEpochs(ledgerFile) > 0) {
        const why = sameContracts ? 'the local chain lost the DAO contracts recorded in' : 'the DAO contracts were rebuilt with changes since the deployment recorded in';
        throw new Error(`${why} ${deploymentFile}, but ${ledgerFile} holds epochs settled on them: start with another --data-dir, or delete the data folder to begin again`);
      }
    }
    const deployer = new Wallet(anvil.accounts[0]!.privateKey, provider);
    const deployment = await deployDao(deployer, { votingPeriodSeconds: LOCAL_VOTING_PERIOD_SECONDS });
    writeDeployment(deploymentFile, deployment);
    writeFileSync(fingerprintFile, fingerprint + '\n');
    return deployment;
  } finally {
    provider.destroy();
  }
}

/** Epochs the ledger has settled (0 for a ledger from before settlement, or none at all). */
function settledEpochs(ledgerFile: string): number {
  if (!existsSync(ledgerFile)) return 0;
  const db = new Database(ledgerFile, { readonly: true });
  try {
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'epochs'").get();
    return table ? (db.prepare('SELECT count(*) AS n FROM epochs').get() as { n: number }).n : 0;
  } finally {
    db.close();
  }
}
