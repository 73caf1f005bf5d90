// Loads the compiled contracts written by scripts/compile-contracts.ts. The artifacts live under
// build/contracts/ at the package root, which is found by walking up from this module: that works
// both from source (tsx, server/chain/) and from the compiled copy (build/node/server/chain/).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InterfaceAbi } from 'ethers';
import { packageRoot } from '../package-root.js';

export type ContractName = 'RewardDistributor' | 'WorkGovernor' | 'Treasury' | 'TestRewardToken';

export interface Artifact {
  abi: InterfaceAbi;
  bytecode: string;
}

// Parsed once per process: the files are immutable while the process runs, and tests deploy often.
const cache = new Map<ContractName, Artifact>();

/** The ABI and creation bytecode of `name`, from build/contracts/<name>.json. */
export function loadArtifact(name: ContractName): Artifact {
  const cached = cache.get(name);
  if (cached) return cached;
  const file = artifactPath(name);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`contract artifact ${file} is missing: run npm run build (or node --import tsx scripts/compile-contracts.ts)`);
    }
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`contract artifact ${file} is not valid JSON (${(err as Error).message}): run npm run build`);
  }
  const { abi, bytecode } = (json ?? {}) as { abi?: unknown; bytecode?: unknown };
  if (!Array.isArray(abi)) throw new Error(`contract artifact ${file} has no abi array: run npm run build`);
  // An interface or abstract contract compiles to empty bytecode; deploying it would fail later
  // with a far less helpful message.
  if (typeof bytecode !== 'string' || !/^0x([0-9a-fA-F]{2})+$/.test(bytecode)) {
    throw new Error(`contract artifact ${file} has no creation bytecode: run npm run build`);
  }
  const artifact: Artifact = { abi: abi as InterfaceAbi, bytecode };
  cache.set(name, artifact);
  return artifact;
}

export function artifactPath(name: ContractName): string {
  return join(packageRoot(import.meta.url), 'build', 'contracts', `${name}.json`);
}

/**
 * A fingerprint of the DAO contracts' creation bytecode: a deployment made from other bytecode
 * (an older build) has other functions and rules, so a recorded deployment is reused only when
 * this matches what was recorded beside it.
 */
export function contractsFingerprint(): string {
  const hash = createHash('sha256');
  for (const name of ['TestRewardToken', 'Treasury', 'RewardDistributor', 'WorkGovernor'] as const) hash.update(loadArtifact(name).bytecode);
  return hash.digest('hex');
}
