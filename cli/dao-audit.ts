// `dao-audit epoch N --gateway URL [--rpc URL] [--file PATH]`: downloads epoch N's audit bundle,
// checks its hash against the one committed on-chain with the root (or, without --rpc, against the
// gateway's word, and says so), recomputes the epoch (audit-epoch.ts) and prints a verdict with
// every difference. Exit 0: the epoch checks out; 1: differences; 2: the audit could not run
// (bad arguments, unreachable gateway or RPC, unpublished epoch, truncated bundle), in one line.
import { createReadStream } from 'node:fs';
import { Contract, JsonRpcProvider, ZeroHash } from 'ethers';
import type { ChainInfo } from '../protocol/api.js';
import { DISTRIBUTOR_ABI } from '../web/chain/abi.js';
import { parseOptions, required } from './args.js';
import { auditEpochBundle, BadBundleError } from './audit-epoch.js';
import { UsageError } from './usage-error.js';

const USAGE = 'usage: dao-audit epoch N --gateway URL [--rpc URL] [--file PATH]';
/** A call to the RPC or the gateway that takes longer than this is taken as unreachable. */
const CALL_TIMEOUT_MS = 15_000;

/** The audit cannot run: said in one line, exit 2. */
class AuditInputError extends Error {}

interface OnChainEpoch {
  root: string;
  bundleHash: string;
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AuditInputError(`${what}: no answer within ${CALL_TIMEOUT_MS / 1000} s`)), CALL_TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function getJson<T>(url: string): Promise<T> {
  const res = await withTimeout(fetch(url), `gateway ${url}`).catch((err: unknown) => {
    throw err instanceof AuditInputError ? err : new AuditInputError(`gateway unreachable at ${url}: ${(err as Error).message}`);
  });
  if (!res.ok) throw new AuditInputError(`gateway answered ${res.status} for ${url}: ${(await res.text()).slice(0, 200)}`);
  return (await res.json()) as T;
}

async function onChainEpoch(gateway: string, rpc: string, epoch: number): Promise<OnChainEpoch> {
  const chain = await getJson<ChainInfo>(`${gateway}/api/chain`);
  if (!chain.enabled) throw new AuditInputError(`the gateway names no chain: ${chain.reason}`);
  const provider = new JsonRpcProvider(rpc, chain.chainId, { staticNetwork: true });
  try {
    const distributor = new Contract(chain.distributor, DISTRIBUTOR_ABI, provider);
    const stored = (await withTimeout(distributor.getFunction('epochs')(epoch), `RPC ${rpc}`).catch((err: unknown) => {
      throw err instanceof AuditInputError ? err : new AuditInputError(`RPC unreachable at ${rpc}: ${(err as Error).message.split('\n')[0]}`);
    })) as { root: string; bundleHash: string };
    if (stored.root === ZeroHash) throw new AuditInputError(`epoch ${epoch} is not published on-chain (distributor ${chain.distributor})`);
    return { root: stored.root, bundleHash: stored.bundleHash };
  } finally {
    provider.destroy();
  }
}

/** The bundle's bytes and the hash the gateway states for it (none for a file). */
async function openBundle(gateway: string | undefined, file: string | undefined, epoch: number): Promise<{ chunks: AsyncIterable<Uint8Array>; statedHash?: string }> {
  if (file !== undefined) return { chunks: createReadStream(file) };
  const url = `${gateway}/api/epochs/${epoch}/audit`;
  const res = await withTimeout(fetch(url), `gateway ${url}`).catch((err: unknown) => {
    throw err instanceof AuditInputError ? err : new AuditInputError(`gateway unreachable at ${url}: ${(err as Error).message}`);
  });
  if (res.status === 404) throw new AuditInputError(`epoch ${epoch} is not closed on this gateway (${(await res.text()).slice(0, 200)})`);
  if (!res.ok || !res.body) throw new AuditInputError(`gateway answered ${res.status} for ${url}: ${(await res.text()).slice(0, 200)}`);
  const statedHash = res.headers.get('x-bundle-hash') ?? undefined;
  return { chunks: res.body as unknown as AsyncIterable<Uint8Array>, ...(statedHash ? { statedHash } : {}) };
}

async function auditCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const [command, epochText, ...rest] = argv;
  if (command !== 'epoch' || epochText === undefined || !/^[1-9][0-9]*$/.test(epochText)) throw new UsageError(USAGE);
  const epoch = Number(epochText);
  const options = parseOptions(rest, { gateway: { type: 'string' }, rpc: { type: 'string' }, file: { type: 'string' } });
  if (options.file === undefined) required(options.gateway, 'gateway');
  if (options.rpc !== undefined) required(options.gateway, 'gateway (it names the contracts to read)');
  const gateway = options.gateway?.replace(/\/+$/, '');

  // The chain first: an unpublished epoch or a dead RPC ends the audit before any download.
  const chain = options.rpc !== undefined ? await onChainEpoch(gateway!, options.rpc, epoch) : undefined;
  const bundle = await openBundle(gateway, options.file, epoch);
  const audit = await auditEpochBundle(bundle.chunks).catch((err: unknown) => {
    if (err instanceof BadBundleError) throw new AuditInputError(err.message);
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new AuditInputError(`no such file: ${options.file}`);
    throw err;
  });
  if (audit.epoch !== epoch) throw new AuditInputError(`the bundle is epoch ${audit.epoch}'s, not epoch ${epoch}'s`);

  const differences: string[] = [];
  const expectedHash = chain?.bundleHash ?? bundle.statedHash;
  const hashSource = chain ? 'the on-chain hash' : "the gateway's stated hash (no --rpc: not checked on-chain)";
  if (expectedHash === undefined) out(`bundle hash ${audit.bundleHash}: nothing to check it against (a file, no --rpc)`);
  else if (expectedHash !== audit.bundleHash) differences.push(`bundle hash: ${audit.bundleHash} does not match ${hashSource} ${expectedHash}`);
  else out(`bundle hash ${audit.bundleHash} matches ${hashSource}`);
  if (chain && chain.root !== audit.root) differences.push(`root: the bundle recomputes to ${audit.root || '(none)'}, the chain holds ${chain.root}`);
  differences.push(...audit.differences);

  out(`epoch ${epoch}: ${audit.shares} shares re-verified, root ${audit.root || '(none)'}${chain ? (chain.root === audit.root ? ' = on-chain root' : '') : ' (not compared on-chain: no --rpc)'}`);
  if (differences.length === 0) {
    out(`VERDICT: OK: epoch ${epoch} recomputes exactly from its audit bundle`);
    return 0;
  }
  out(`VERDICT: FAILED: ${differences.length} difference${differences.length === 1 ? '' : 's'}`);
  for (const d of differences) out(`  ${d}`);
  return 1;
}

export async function main(
  argv: string[],
  out: (line: string) => void = (line) => console.log(line),
  err: (line: string) => void = (line) => console.error(line),
): Promise<number> {
  try {
    return await auditCommand(argv, out);
  } catch (error) {
    if (error instanceof UsageError || error instanceof AuditInputError) {
      err(`dao-audit: ${error.message}`);
      return 2;
    }
    throw error;
  }
}
