import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDeployment } from '../../server/chain/deploy.js';
import { DEFAULT_CONFIG, type GatewayConfig } from '../../server/config.js';
import { startGateway, type Gateway, type GatewayOverrides } from '../../server/gateway.js';
import type { TestChain } from './chain.js';

/** A member address for tests (checksummed). */
export const MEMBER = '0x52908400098527886E0F7030069857D2E4169EE7';
export const MEMBER_2 = '0x8617E340B3D01FA5F11F306F4090FD50E238070D';

/**
 * A real gateway on free loopback ports with a fresh SQLite file, quiet logs and a difficulty low
 * enough that the test miner finds shares in milliseconds.
 */
export async function startTestGateway(config: Partial<GatewayConfig> = {}, overrides: GatewayOverrides = {}): Promise<Gateway & { dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dao-gateway-'));
  // Tests play local mode: the page reads the test anvil (no credentials) unless a test says otherwise.
  if (config.chainRpcUrl && config.chainPublicRpcUrl === undefined) config = { ...config, chainPublicRpcUrl: config.chainRpcUrl };
  const gateway = await startGateway(
    { ...DEFAULT_CONFIG, httpPort: 0, stratumPort: 0, dataDir, startDifficulty: 1e-5, minDifficulty: 1e-7, logLevel: 'silent', ...config },
    overrides,
  );
  return Object.assign(gateway, { dataDir });
}

/**
 * A test gateway that settles on `chain`'s DAO, publishing with anvil's first account. Its epoch
 * timer never fires during a test: each test closes the epochs it wants.
 */
export async function startSettlingGateway(chain: TestChain, config: Partial<GatewayConfig> = {}): Promise<Gateway & { dataDir: string }> {
  const deploymentFile = join(mkdtempSync(join(tmpdir(), 'dao-deployment-')), 'deployment.json');
  writeDeployment(deploymentFile, chain.deployment);
  return startTestGateway({
    chainRpcUrl: chain.anvil.rpcUrl,
    chainDeploymentFile: deploymentFile,
    publisherKey: chain.anvil.accounts[0]!.privateKey,
    epochSeconds: 30 * 86_400,
    epochReward: '100',
    ...config,
  });
}

export async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}
