// The dao-gateway CLI as a user runs it: the built bin/dao-gateway.mjs in a child process.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SETTINGS } from '../server/config.js';

const BIN = fileURLToPath(new URL('../bin/dao-gateway.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'dao-gateway-cli-'));
let dirs = 0;
const dataDir = () => join(dir, `data${++dirs}`);

// Every child this file starts; whatever a test did, none outlives the file.
const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** The test's environment without any DAO_GATEWAY_* setting, plus `extra`. */
function envWith(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('DAO_GATEWAY_')));
  return { ...env, ...extra };
}

interface Exit {
  status: number | null;
  signal: NodeJS.Signals | null;
}

interface Child {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when the process has exited; a process still running after `limitMs` is killed. */
  exited: Promise<Exit>;
}

function launch(args: string[], env: NodeJS.ProcessEnv = envWith(), limitMs = 15_000): Child {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<Exit>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal });
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Runs the CLI to its end. */
async function run(args: string[], env?: NodeJS.ProcessEnv, limitMs?: number) {
  const c = launch(args, env, limitMs);
  const exit = await c.exited;
  return { ...exit, stdout: c.stdout(), stderr: c.stderr() };
}

/** Exit status 2, nothing on stdout, and exactly one line on stderr, `dao-gateway: ...`, no stack. */
async function expectUsageError(args: string[], message: RegExp, env?: NodeJS.ProcessEnv): Promise<string> {
  const r = await run(args, env);
  const what = `dao-gateway ${args.join(' ')}`;
  assert.equal(r.status, 2, `exit status of ${what}: ${r.stderr}`);
  assert.equal(r.stdout, '', what);
  assert.ok(r.stderr.endsWith('\n'), `${what}: ${JSON.stringify(r.stderr)}`);
  const lines = r.stderr.slice(0, -1).split('\n');
  assert.equal(lines.length, 1, `${what}: one line, no stack trace: ${r.stderr}`);
  assert.match(lines[0]!, /^dao-gateway: /);
  assert.match(lines[0]!, message);
  return lines[0]!;
}

interface Started extends Child {
  /** The start line, parsed. */
  start: { msg: string; http: string; stratum: string; ledger: string; workSource: string };
  httpUrl: string;
  httpPort: number;
  stratumPort: number;
}

/** Starts the gateway and waits for its start line on stdout. */
async function startGateway(args: string[], env?: NodeJS.ProcessEnv): Promise<Started> {
  const c = launch(args, env, 20_000);
  const lines = createInterface({ input: c.child.stdout! });
  const start = await new Promise<Started['start']>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no start line within 10 s; stderr: ${c.stderr()}`)), 10_000);
    lines.on('line', (line) => {
      let entry: Started['start'];
      try {
        entry = JSON.parse(line) as Started['start'];
      } catch {
        clearTimeout(timer);
        reject(new Error(`not a pino JSON line on stdout: ${line}`));
        return;
      }
      if (/listening/.test(entry.msg)) {
        clearTimeout(timer);
        resolve(entry);
      }
    });
    void c.exited.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`exited (${JSON.stringify(exit)}) before its start line; stderr: ${c.stderr()}`));
    });
  });
  const http = /listening on (http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(start.msg);
  const stratum = / and stratum\+tcp:\/\/127\.0\.0\.1:(\d+);/.exec(start.msg);
  assert.ok(http && stratum, `the start line says where it listens: ${start.msg}`);
  return { ...c, start, httpUrl: http[1]!, httpPort: Number(http[2]), stratumPort: Number(stratum[1]) };
}

/** SIGTERM, then exit status 0 within a few seconds. */
async function stop(g: Started): Promise<void> {
  const sent = Date.now();
  g.child.kill('SIGTERM');
  const exit = await Promise.race([g.exited, new Promise<'late'>((r) => setTimeout(() => r('late'), 5_000).unref())]);
  assert.notEqual(exit, 'late', 'stopped within 5 s of SIGTERM');
  assert.deepEqual(exit, { status: 0, signal: null }, `stderr: ${g.stderr()}`);
  assert.ok(Date.now() - sent < 5_000);
}

/** One JSON-RPC exchange on a fresh TCP connection. */
function stratumCall(port: number, request: object): Promise<{ id: unknown; result: unknown; error: unknown }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no answer within 5 s'));
    }, 5_000);
    let buffer = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(JSON.stringify(request) + '\n'));
    socket.on('data', (data: string) => {
      buffer += data;
      for (const line of buffer.split('\n').slice(0, -1)) {
        const message = JSON.parse(line) as { id: unknown; result: unknown; error: unknown };
        if (message.id !== (request as { id: unknown }).id) continue;
        clearTimeout(timer);
        socket.destroy();
        resolve(message);
        return;
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

function expectStartLine(g: Started) {
  const { msg } = g.start;
  assert.match(msg, /practice chain/, msg);
  assert.match(msg, /no real coin is mined/, msg);
  assert.ok(g.httpPort > 0 && g.httpPort < 65536, `a real HTTP port: ${msg}`);
  assert.ok(g.stratumPort > 0 && g.stratumPort < 65536, `a real Stratum port: ${msg}`);
  assert.notEqual(g.httpPort, g.stratumPort);
  assert.equal(g.start.http, g.httpUrl);
  assert.equal(g.start.stratum, `stratum+tcp://127.0.0.1:${g.stratumPort}`);
}

/** Every stdout line is pino JSON, and exactly one of them is the start line. */
function expectOneStartLine(g: Started) {
  const lines = g.stdout().trim().split('\n');
  const entries = lines.map((line) => JSON.parse(line) as { msg: string });
  assert.equal(entries.filter((e) => /listening/.test(e.msg)).length, 1, g.stdout());
}

describe('dao-gateway --help', () => {
  test('exits 0 and lists every flag', async () => {
    for (const flag of ['--help', '-h']) {
      const r = await run([flag]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '');
      assert.match(r.stdout, /^usage: dao-gateway /);
      for (const name of [...SETTINGS.map((s) => s.flag), 'config', 'payout-script']) assert.match(r.stdout, new RegExp(`^  --${name} `, 'm'), name);
      assert.match(r.stdout, /DAO_GATEWAY_HTTP_PORT/);
    }
  });
});

describe('dao-gateway bad input: one line, exit status 2', () => {
  test('bad flags, bad values, unknown options, a missing or broken config file', async () => {
    const notJson = join(dir, 'not-json.json');
    writeFileSync(notJson, '{"http-port": 80,}');
    const missing = join(dir, 'missing.json');
    const data = ['--data-dir', dataDir()];
    const cases: [string[], RegExp][] = [
      [['--http-port', 'x'], /^dao-gateway: --http-port: "x" is not a whole number$/],
      [['--stratum-port', '70000'], /^dao-gateway: --stratum-port: 70000 is outside 0\.\.65535$/],
      [['--http-port=-1'], /^dao-gateway: --http-port: "-1" is not a whole number$/],
      [['--http-port', '-1'], /^dao-gateway: --http-port: a value starting with "-" must be written --http-port=VALUE$/],
      [['--http-port'], /^dao-gateway: Option '--http-port <value>' argument missing$/],
      [['--bogus', '1'], /^dao-gateway: Unknown option '--bogus'$/],
      [['stray'], /^dao-gateway: Unexpected argument 'stray'$/],
      [['--help=yes'], /does not take an argument/],
      [['--log-level', 'loud'], /^dao-gateway: --log-level: "loud" is not one of fatal, /],
      [['--min-difficulty', '2', '--max-difficulty', '1'], /^dao-gateway: min-difficulty 2 is above max-difficulty 1$/],
      [['--version-rolling-mask', 'xyz'], /^dao-gateway: --version-rolling-mask: "xyz" is not 8 hex digits$/],
      // Repeated: every value is checked, not only the last.
      [['--ban-exempt', '10.0.0/8', '--ban-exempt', 'fd00::/8'], /^dao-gateway: --ban-exempt: "10\.0\.0\/8" is not a CIDR: expected ADDRESS\/PREFIX such as /],
      [['--source', 'ftp://u:s3cr3t@h:21'], /^dao-gateway: --source: the scheme must be stratum\+tcp:\/\/ or http:\/\/, not ftp:$/],
      [['--source', 'stratum+tcp://u:s3cr3t@h'], /^dao-gateway: --source: "stratum\+tcp:\/\/u:\*\*\*@h" needs a host and a port$/],
      [['--source', 'http://u:s3cr3t@h:8332'], /^dao-gateway: --payout-script is required with a node source/],
      [['--config', missing], new RegExp(`^dao-gateway: config file ${missing}: not found$`)],
      [['--config', notJson], new RegExp(`^dao-gateway: config file ${notJson}: not valid JSON \\(.* at line 1 column 18\\)$`)],
    ];
    const lines = await Promise.all(cases.map(([args, message]) => expectUsageError([...data, ...args], message)));
    for (const line of lines) assert.ok(!line.includes('s3cr3t'), line);
  });
  test('bad environment variables name the variable', async () => {
    await Promise.all([
      expectUsageError([], /^dao-gateway: DAO_GATEWAY_HTTP_PORT: "x" is not a whole number$/, envWith({ DAO_GATEWAY_HTTP_PORT: 'x' })),
      expectUsageError([], /^dao-gateway: DAO_GATEWAY_STRATUM_PORT: 70000 is outside 0\.\.65535$/, envWith({ DAO_GATEWAY_STRATUM_PORT: '70000' })),
      expectUsageError([], new RegExp(`^dao-gateway: config file ${join(dir, 'nope.json')}: not found$`), envWith({ DAO_GATEWAY_CONFIG: join(dir, 'nope.json') })),
    ]);
  });
});

describe('dao-gateway runs', () => {
  test('--http-port 0 --stratum-port 0: one start line, /healthz, Stratum, SIGTERM, the ledger', async () => {
    const data = dataDir();
    const g = await startGateway(['--http-port', '0', '--stratum-port', '0', '--data-dir', data]);
    try {
      expectStartLine(g);
      assert.equal(g.start.ledger, join(data, 'ledger.sqlite'));

      const health = await fetch(new URL('/healthz', g.httpUrl));
      const body = (await health.json()) as { status: string; workSource: { practice: boolean } };
      assert.equal(health.status, 200, JSON.stringify(body));
      assert.equal(body.status, 'ok');
      assert.equal(body.workSource.practice, true);

      const reply = await stratumCall(g.stratumPort, { id: 1, method: 'mining.subscribe', params: ['gateway-cli-test/1'] });
      assert.equal(reply.error, null);
      const [subscriptions, extranonce1, extranonce2Size] = reply.result as [unknown, string, number];
      assert.ok(Array.isArray(subscriptions));
      assert.match(extranonce1, /^([0-9a-f]{2})+$/);
      assert.ok(Number.isInteger(extranonce2Size) && extranonce2Size > 0, String(extranonce2Size));

      await stop(g);
      assert.equal(g.stderr(), '');
      expectOneStartLine(g);
      assert.ok(existsSync(join(data, 'ledger.sqlite')), 'the ledger file is under the data dir');
    } finally {
      if (g.child.exitCode === null) g.child.kill('SIGKILL');
    }
  });

  test('from DAO_GATEWAY_* environment variables and a config file', async () => {
    const data = dataDir();
    const fromEnv = await startGateway([], envWith({ DAO_GATEWAY_HTTP_PORT: '0', DAO_GATEWAY_STRATUM_PORT: '0', DAO_GATEWAY_DATA_DIR: data }));
    const file = join(dir, 'gateway.json');
    const fileData = dataDir();
    // The file says 1 for the ports, which the flags override.
    writeFileSync(file, JSON.stringify({ httpPort: 1, 'stratum-port': 1, dataDir: fileData, logLevel: 'info' }));
    const fromFile = await startGateway(['--config', file, '--http-port', '0', '--stratum-port', '0']).catch(async (err: unknown) => {
      fromEnv.child.kill('SIGKILL');
      throw err;
    });
    try {
      for (const g of [fromEnv, fromFile]) {
        expectStartLine(g);
        assert.equal((await fetch(new URL('/healthz', g.httpUrl))).status, 200);
      }
      await Promise.all([stop(fromEnv), stop(fromFile)]);
      assert.ok(existsSync(join(data, 'ledger.sqlite')), 'DAO_GATEWAY_DATA_DIR');
      assert.ok(existsSync(join(fileData, 'ledger.sqlite')), 'dataDir of the config file');
    } finally {
      for (const g of [fromEnv, fromFile]) if (g.child.exitCode === null) g.child.kill('SIGKILL');
    }
  });

  test('a port in use: exit status 1 and one line saying so', async () => {
    const busy: Server = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as AddressInfo).port;
    try {
      const [stratumBusy, httpBusy] = await Promise.all([
        run(['--http-port', '0', '--stratum-port', String(port), '--data-dir', dataDir()], undefined, 6_000),
        run(['--http-port', String(port), '--stratum-port', '0', '--data-dir', dataDir()], undefined, 6_000),
      ]);
      for (const [r, option] of [[stratumBusy, 'stratum-port'], [httpBusy, 'http-port']] as const) {
        // Killed by the limit instead: it kept running after saying it could not start.
        assert.equal(r.signal, null, `exits by itself: ${r.stderr}`);
        assert.equal(r.status, 1, r.stderr);
        assert.equal(r.stdout, '');
        const lines = r.stderr.trim().split('\n');
        assert.equal(lines.length, 1, r.stderr);
        assert.equal(lines[0], `dao-gateway: could not start: port ${port} on 127.0.0.1 is in use (--${option}): stop what listens there or choose another port`);
      }
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });
});
