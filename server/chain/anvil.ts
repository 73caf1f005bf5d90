// Starts a local anvil node (Foundry's dev chain) as a child process: the demo chain of the gateway
// and the real chain of the contract tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { computeAddress } from 'ethers';

/**
 * The first ten accounts of anvil's default mnemonic ("test test ... junk"). These are PUBLIC test
 * keys, printed by every anvil and Hardhat node, never secrets: anything sent to them on a real
 * network is taken at once. They are hard-coded so callers can sign without parsing anvil's banner.
 */
export const ANVIL_DEV_KEYS = [
  '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80',
  '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d',
  '0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a',
  '0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6',
  '0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a',
  '0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba',
  '0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e',
  '0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356',
  '0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97',
  '0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6',
] as const;

/** Passed explicitly so the keys above hold even if anvil's default ever changes. */
const ANVIL_DEV_MNEMONIC = 'test test test test test test test test test test test junk';
const STOP_GRACE_MS = 3000;
const TAIL_CHARS = 4000;

export interface AnvilOptions {
  host?: string;
  /** 0 (the default) lets anvil pick a free port; the real one is read from its banner. */
  port?: number;
  /** Interval mining; without it anvil mines one block per transaction at once. */
  blockTimeSeconds?: number;
  /**
   * With blockTimeSeconds: transactions are still mined at once (automine), and an empty block
   * follows every blockTimeSeconds, so the chain's clock (the latest block's timestamp) keeps up
   * with the wall while nobody sends anything.
   */
  mixedMining?: boolean;
  /** Loads the chain from this file when it exists and dumps it there when anvil stops. */
  stateFile?: string;
  /** With stateFile: also dump every this many seconds, so a crash (no clean stop) loses little. */
  stateIntervalSeconds?: number;
  chainId?: number;
  /** Receives each line anvil prints (stdout and stderr). */
  log?: (line: string) => void;
  startTimeoutMs?: number;
}

export interface Anvil {
  rpcUrl: string;
  port: number;
  chainId: number;
  process: ChildProcess;
  accounts: readonly { address: string; privateKey: string }[];
  /** SIGTERM (anvil dumps --state then), SIGKILL after 3 s; resolves once the process has exited. */
  stop(): Promise<void>;
}

/** The anvil binary of the platform package that npm installed next to @foundry-rs/anvil. */
export function anvilBinary(): string {
  const pkg = `@foundry-rs/anvil-${process.platform}-${process.arch === 'x64' ? 'amd64' : process.arch}`;
  let dir: string;
  try {
    dir = dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`));
  } catch {
    throw new Error(`anvil is not installed for ${process.platform}/${process.arch}: package ${pkg} is missing (run npm ci; it is an optional dependency of @foundry-rs/anvil)`);
  }
  const binary = join(dir, 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
  if (!existsSync(binary)) throw new Error(`anvil binary ${binary} is missing: reinstall ${pkg} (npm ci)`);
  return binary;
}

/**
 * Starts anvil and resolves once it listens. The node does not keep this process alive by itself
 * (a server or an awaited stop() does), and it is killed when this process exits.
 */
export async function startAnvil(options: AnvilOptions = {}): Promise<Anvil> {
  const host = options.host ?? '127.0.0.1';
  const chainId = options.chainId ?? 31337;
  const startTimeoutMs = options.startTimeoutMs ?? 15_000;
  const args = [
    '--host', host,
    '--port', String(options.port ?? 0),
    '--chain-id', String(chainId),
    '--accounts', String(ANVIL_DEV_KEYS.length),
    '--balance', '10000',
    '--mnemonic', ANVIL_DEV_MNEMONIC,
  ];
  if (options.blockTimeSeconds !== undefined) args.push('--block-time', String(options.blockTimeSeconds));
  if (options.mixedMining) {
    if (options.blockTimeSeconds === undefined) throw new Error('startAnvil: mixedMining needs blockTimeSeconds');
    args.push('--mixed-mining');
  }
  if (options.stateFile !== undefined) args.push('--state', options.stateFile);
  if (options.stateIntervalSeconds !== undefined) {
    if (options.stateFile === undefined) throw new Error('startAnvil: stateIntervalSeconds needs stateFile');
    args.push('--state-interval', String(options.stateIntervalSeconds));
  }

  const child = spawn(anvilBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  // A test or CLI that exits (or throws) without calling stop() must not leave anvil holding the
  // port: kill it synchronously as this process exits. (A SIGKILLed parent cannot be covered.)
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);

  let tail = '';
  const remember = (text: string): void => {
    tail = (tail + text).slice(-TAIL_CHARS);
  };
  let onListening: ((port: number) => void) | undefined;
  forEachLine(child.stdout!, (line) => {
    remember(line + '\n');
    options.log?.(line);
    const match = /^Listening on (.+):(\d+)$/.exec(line.trim());
    if (match) onListening?.(Number(match[2]));
  });
  forEachLine(child.stderr!, (line) => {
    remember(line + '\n');
    options.log?.(line);
  });

  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  exited.then(() => process.off('exit', killOnExit));

  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`anvil did not print its listening line within ${startTimeoutMs} ms; output tail:\n${tail}`));
      }, startTimeoutMs);
      onListening = (p) => {
        clearTimeout(timer);
        resolve(p);
      };
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`cannot start anvil: ${err.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`anvil exited before listening (code ${code}, signal ${signal}); output tail:\n${tail}`));
      });
    });
  } catch (err) {
    // A spawn failure (no pid) never emits 'exit'; anything else is reaped before rejecting.
    if (child.pid !== undefined) {
      child.kill('SIGKILL');
      await Promise.race([exited, delay(STOP_GRACE_MS)]);
    }
    throw err;
  }

  // Once started, the node must not keep this process alive on its own; stop() re-refs it while
  // it waits, and the exit hook above kills it if nobody does.
  child.unref();
  unrefStream(child.stdout);
  unrefStream(child.stderr);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.ref();
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const killed = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, STOP_GRACE_MS);
      });
      await Promise.race([exited, killed]);
      clearTimeout(timer);
      await exited;
    })();
    return stopping;
  };

  return {
    rpcUrl: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    chainId,
    process: child,
    accounts: ANVIL_DEV_KEYS.map((privateKey) => ({ address: computeAddress(privateKey), privateKey })),
    stop,
  };
}

function forEachLine(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      onLine(buffered.slice(0, newline).replace(/\r$/, ''));
      buffered = buffered.slice(newline + 1);
    }
  });
  stream.on('end', () => {
    if (buffered) onLine(buffered);
    buffered = '';
  });
}

function unrefStream(stream: unknown): void {
  (stream as { unref?: () => void } | null)?.unref?.();
}

function delay(ms: number): Promise<void> {
  // Unref: a pending grace period must not hold the process open once anvil has exited.
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
