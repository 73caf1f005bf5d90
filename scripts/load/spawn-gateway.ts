// The gateway under load, started as the real CLI (node bin/dao-gateway.mjs) in a child process,
// so that its CPU and memory are read from /proc apart from the generator's. Its ports come from
// its start line (pino JSON on stdout: the "http" and "stratum" URLs); later warnings and errors
// it logs are handed to the caller, since they are errors the load did not ask for.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { packageRoot } from '../../server/package-root.js';

export interface GatewaySettings {
  difficulty: number;
  /** Concurrent connections one source address will open. */
  connectionsPerAddress: number;
  ledgerSynchronous: 'FULL' | 'NORMAL';
  /** Starts Node's inspector on a loopback port, for a CPU profile over the window. */
  inspect: boolean;
  /**
   * Something the gateway logged at warn or above, or wrote to stderr: `kind` groups alike
   * events for counting (the log message without its fields), `line` is the whole line.
   */
  onProblem(kind: string, line: string): void;
  /** More dao-gateway flags after these (a shared ledger, an instance id, trusted proxies). */
  extraArgs?: string[];
}

export interface SpawnedGateway {
  pid: number;
  host: string;
  httpPort: number;
  stratumPort: number;
  /** ws://127.0.0.1:PORT/json/... of the inspector, when started with `inspect`. */
  inspectorUrl: string | undefined;
  /** The exit code, or the signal's name; settles when the process is gone. */
  exited: Promise<number | string>;
  /** SIGTERM (the gateway closes its ledger), SIGKILL after `graceMs`; removes the data folder. */
  stop(graceMs?: number): Promise<number | string>;
}

const START_TIMEOUT_MS = 30_000;
/** pino's numeric levels: 40 is warn. */
const WARN_LEVEL = 40;

/**
 * The dao-gateway flags of a gateway under load (without the script path): the cluster checks
 * them with the gateway's own config loader before it starts any.
 */
export function loadGatewayArgs(settings: Pick<GatewaySettings, 'difficulty' | 'connectionsPerAddress' | 'ledgerSynchronous' | 'extraArgs'>, dataDir: string): string[] {
  const d = String(settings.difficulty);
  return [
    ...['--data-dir', dataDir, '--host', '127.0.0.1', '--http-port', '0', '--stratum-port', '0', '--source', 'practice', '--web-root', ''],
    // Pinned: start = min = max, so vardiff cannot move it during the run.
    ...['--start-difficulty', d, '--min-difficulty', d, '--max-difficulty', d],
    // The load must not be refused: a realistic cap per address (the generator spreads its
    // connections over many), a message rate far above what the pacer sends one miner, no bans,
    // and no idle timeout (a miner at a low share rate may stay silent for minutes).
    ...['--max-connections-per-ip', String(settings.connectionsPerAddress + 16)],
    ...['--messages-per-second', '100000', '--message-burst', '100000', '--max-invalid-per-minute', '1000000'],
    // Each source address stands for hundreds of separate hosts here, so the per-address row
    // budget (meant for one host) is lifted like the other per-address caps.
    ...['--rows-per-second-per-ip', '1000000'],
    ...['--idle-timeout-ms', '86400000', '--ledger-synchronous', settings.ledgerSynchronous],
    ...(settings.extraArgs ?? []),
  ];
}

export async function spawnGateway(settings: GatewaySettings): Promise<SpawnedGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dao-load-gateway-'));
  const args = [...(settings.inspect ? ['--inspect=127.0.0.1:0'] : []), join(packageRoot(), 'bin', 'dao-gateway.mjs'), ...loadGatewayArgs(settings, dataDir)];
  // The caller's DAO_GATEWAY_* settings (a config file, a chain) would change what is measured.
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('DAO_GATEWAY_')));
  const child = spawn(process.execPath, args, { cwd: packageRoot(), env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  const cleanup = () => rmSync(dataDir, { recursive: true, force: true });
  void exited.then(cleanup);

  try {
    const started = await readStart(child, exited, settings);
    return {
      pid: child.pid!,
      host: '127.0.0.1',
      ...started,
      exited,
      async stop(graceMs = 15_000) {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const code = await exited;
        clearTimeout(killer);
        return code;
      },
    };
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw err;
  }
}

/** Waits for the start line (ports) and, with the inspector, its URL on stderr. */
function readStart(
  child: ChildProcessByStdio<null, Readable, Readable>,
  exited: Promise<number | string>,
  settings: GatewaySettings,
): Promise<{ httpPort: number; stratumPort: number; inspectorUrl: string | undefined }> {
  return new Promise((resolve, reject) => {
    let ports: { httpPort: number; stratumPort: number } | undefined;
    let inspectorUrl: string | undefined;
    const stderrTail: string[] = [];
    const done = () => {
      if (ports && (inspectorUrl || !settings.inspect)) {
        clearTimeout(timer);
        resolve({ ...ports, inspectorUrl });
      }
    };
    const timer = setTimeout(() => reject(new Error(`the gateway did not say it was listening within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited (${code}) before listening: ${stderrTail.join(' | ') || 'nothing on stderr'}`));
    });

    createInterface({ input: child.stdout }).on('line', (line) => {
      let entry: { level?: number; http?: string; stratum?: string; msg?: string };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        settings.onProblem('the gateway wrote a line that is not its JSON log', line);
        return;
      }
      if (!ports && entry.http && entry.stratum) {
        ports = { httpPort: Number(new URL(entry.http).port), stratumPort: Number(new URL(entry.stratum).port) };
        done();
      } else if ((entry.level ?? 0) >= WARN_LEVEL) {
        settings.onProblem(`the gateway logged ${(entry.level ?? 0) >= 50 ? 'an error' : 'a warning'}: ${entry.msg ?? '(no message)'}`, line);
      }
    });
    createInterface({ input: child.stderr }).on('line', (line) => {
      const url = /Debugger listening on (ws:\/\/\S+)/.exec(line)?.[1];
      if (url) {
        inspectorUrl = url;
        done();
        return;
      }
      // Node's inspector banner lines are not problems.
      if (/^For help, see: https:\/\/nodejs.org\/en\/docs\/inspector|^Debugger (attached|ending)|^Waiting for the debugger/.test(line)) return;
      stderrTail.push(line);
      if (stderrTail.length > 5) stderrTail.shift();
      if (ports) settings.onProblem('the gateway wrote to stderr', line);
    });
  });
}
