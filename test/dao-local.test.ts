// `npm start` as a newcomer runs it: bin/dao-local.mjs starts a local chain, deploys the DAO and
// runs the gateway against it. Built code in a child process, real anvil, real HTTP.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/dao-local.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'dao-local-'));
const children = new Set<ChildProcess>();
after(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

interface Running {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts `npm start`'s program on free ports and waits for the line that tells the URL to open. */
async function startLocal(dataDir: string): Promise<Running> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('DAO_GATEWAY_')));
  const child = spawn(process.execPath, [BIN, '--data-dir', dataDir, '--http-port', '0', '--stratum-port', '0', '--log-level', 'warn'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', (status) => resolve(status)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "Open <url>" line within 30 s; output:\n${output}`)), 30_000);
    const onData = (text: string) => {
      output += text;
      const match = /Open (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.setEncoding('utf8').on('data', onData);
    child.stderr!.setEncoding('utf8').on('data', onData);
    void exited.then((status) => {
      clearTimeout(timer);
      reject(new Error(`exited with status ${status} before it was ready; output:\n${output}`));
    });
  });
  return { child, url, output: () => output, exited };
}

async function stop(running: Running): Promise<number | null> {
  running.child.kill('SIGTERM');
  return running.exited;
}

test('npm start runs chain, contracts and gateway together, and keeps the chain across a restart', { timeout: 120_000 }, async () => {
  const dataDir = join(dir, 'data');
  const first = await startLocal(dataDir);
  const chain = (await (await fetch(`${first.url}api/chain`)).json()) as Record<string, any>;
  assert.equal(chain.enabled, true, JSON.stringify(chain));
  assert.equal(chain.chainId, 31337);
  assert.equal(chain.token.symbol, 'tREW');
  assert.equal(chain.epochSeconds, 120, 'the local demo closes an epoch every two minutes');
  assert.match(chain.rpcUrl, /^http:\/\/127\.0\.0\.1:\d+/);
  // The browser reads the chain itself: the RPC URL it is given must answer.
  const rpc = await fetch(chain.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }) });
  assert.equal(((await rpc.json()) as { result: string }).result, '0x7a69');
  // Blocks come on an interval as well as with each transaction: the chain's clock, by which votes
  // end, follows the wall while nobody sends anything.
  const blockNumber = async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] });
    const res = await fetch(chain.rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    return Number(BigInt(((await res.json()) as { result: string }).result));
  };
  const idleFrom = await blockNumber();
  await new Promise((resolve) => setTimeout(resolve, 4_500));
  assert.ok((await blockNumber()) > idleFrom, 'a block mined within 4.5 s with no transaction');
  const app = await fetch(first.url);
  assert.equal(app.status, 200, 'the web app is served');
  // The demo partner page, on another site (another loopback host), embedding the widget from this DAO.
  const demoUrl = /third-party there\): (http:\/\/\S+)/.exec(first.output())?.[1];
  assert.match(demoUrl ?? '', /^http:\/\/127\.0\.0\.2:\d+\/$/, first.output());
  const demo = await (await fetch(demoUrl!)).text();
  const daoOrigin = new URL(first.url).origin;
  assert.ok(demo.includes(`src="${daoOrigin}/widget.js" data-dao-origin="${daoOrigin}"`), demo);
  assert.equal(await stop(first), 0, first.output());
  assert.ok(existsSync(join(dataDir, 'chain', 'anvil-state.json')), 'anvil dumped its state on the way out');
  const deployment = JSON.parse(readFileSync(join(dataDir, 'chain', 'deployment.json'), 'utf8'));

  const second = await startLocal(dataDir);
  const again = (await (await fetch(`${second.url}api/chain`)).json()) as Record<string, any>;
  assert.equal(again.distributor, deployment.distributor, 'the same contracts, not a second deployment');
  assert.equal(again.governor, deployment.governor);
  assert.equal(await stop(second), 0, second.output());

  // A data folder from an older build: its contracts have other functions and rules, so they are
  // deployed afresh (no epoch was settled on the old ones) instead of being reused.
  writeFileSync(join(dataDir, 'chain', 'deployment.json.contracts-sha256'), '0'.repeat(64) + '\n');
  const third = await startLocal(dataDir);
  const rebuilt = (await (await fetch(`${third.url}api/chain`)).json()) as Record<string, any>;
  assert.notEqual(rebuilt.governor, deployment.governor, 'contracts from another build are deployed again');
  assert.equal(await stop(third), 0, third.output());
});

test('npm start -- --help explains itself; a bad option is refused with status 2', async () => {
  const run = (args: string[]) =>
    new Promise<{ status: number | null; out: string }>((resolve) => {
      const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      children.add(child);
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.on('close', (status) => resolve({ status, out }));
    });
  const help = await run(['--help']);
  assert.equal(help.status, 0);
  assert.match(help.out, /local chain \(anvil/);
  // Its own settings, the gateway's, with what local mode changes beside them.
  for (const flag of ['--http-port', '--source', '--log-level', '--relay-gas-budget-wei-per-day', '--config']) assert.match(help.out, new RegExp(`^  ${flag} `, 'm'), `dao-local --help lists ${flag}`);
  assert.match(help.out, /^  --epoch-seconds .*\[here: 120\]$/m);
  assert.match(help.out, /^  --chain-rpc .*\[here: the local anvil, always\]$/m);
  assert.doesNotMatch(help.out, /see dao-gateway --help/);
  const bad = await run(['--no-such-option']);
  assert.equal(bad.status, 2);
  assert.match(bad.out, /dao-local: .*no-such-option/);
});
