import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG, type GatewayConfig } from '../../server/config.js';
import { startGateway, type Gateway, type GatewayOverrides } from '../../server/gateway.js';

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

export async function getJson(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}
