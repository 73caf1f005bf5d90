// Behind a real HAProxy (issue 13 item 4): with --trusted-proxy the gateway bans the client a flood
// came from, read from X-Forwarded-For (HTTP mode, WebSocket Stratum) and from the PROXY v2 header
// (TCP mode, Stratum TCP), and not every client of the balancer; a forged X-Forwarded-For or a
// PROXY header from an untrusted peer changes nothing.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { freePort, HAPROXY } from '../scripts/cluster/haproxy.js';
import { startTestGateway } from './helpers/gateway.js';
import { TestMiner } from './helpers/test-miner.js';
import { waitFor } from './helpers/wait-for.js';

const ABUSER = '127.0.0.2';
const BYSTANDER = '127.0.0.3';

type TestGateway = Awaited<ReturnType<typeof startTestGateway>>;

/** A real HAProxy in front of the gateway: HTTP mode with X-Forwarded-For, TCP mode with PROXY v2. */
async function startHaproxy(gateway: TestGateway): Promise<{ httpPort: number; stratumPort: number; child: ChildProcess; log: string[] }> {
  const httpPort = await freePort();
  const stratumPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'dao-haproxy-'));
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(
    cfg,
    `global
  maxconn 2000
defaults
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout tunnel 1h
frontend web
  mode http
  bind 127.0.0.1:${httpPort}
  option forwardfor
  default_backend gateway_http
backend gateway_http
  mode http
  server gw1 127.0.0.1:${gateway.httpPort}
frontend stratum
  mode tcp
  bind 127.0.0.1:${stratumPort}
  default_backend gateway_stratum
backend gateway_stratum
  mode tcp
  server gw1 127.0.0.1:${gateway.stratumPort} send-proxy-v2
`,
  );
  const log: string[] = [];
  const child = spawn(HAPROXY, ['-f', cfg, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => log.push(d.toString()));
  child.stderr!.on('data', (d: Buffer) => log.push(d.toString()));
  await waitFor('HAProxy listens', () => new Promise<boolean>((resolve) => {
    const probe = connect({ host: '127.0.0.1', port: stratumPort }, () => (probe.destroy(), resolve(true)));
    probe.on('error', () => resolve(false));
  }), 10_000);
  return { httpPort, stratumPort, child, log };
}

/** The value of one series of the gateway's Prometheus text, 0 when absent. */
async function metric(gateway: TestGateway, series: string): Promise<number> {
  const text = await (await fetch(`${gateway.httpUrl}metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** Sends lines that are not JSON until the gateway hangs up: one connection banned. */
async function abuse(miner: TestMiner): Promise<void> {
  for (let i = 0; i < 60; i++) miner.sendRaw('{not json');
  await miner.waitClosed();
}

/** A fresh connection is let in (true) or refused and closed (false). */
async function admitted(open: () => Promise<TestMiner>): Promise<boolean> {
  const miner = await open();
  try {
    const reply = await miner.request('mining.subscribe', ['probe/1']).catch(() => undefined);
    return reply !== undefined && !miner.closed && Array.isArray(reply.result);
  } finally {
    miner.close();
  }
}

describe('behind HAProxy', () => {
  let gateway: TestGateway;
  let proxy: Awaited<ReturnType<typeof startHaproxy>>;
  before(async () => {
    assert.ok(existsSync(HAPROXY), `${HAPROXY} is not installed: these tests need Debian's haproxy (apt-get install haproxy; .ci/run installs it)`);
    gateway = await startTestGateway({ trustedProxy: ['127.0.0.1/32'], maxInvalidPerMinute: 10, banAddressAfter: 2, banSeconds: 60, webRoot: '', proxyHeaderTimeoutMs: 500 });
    proxy = await startHaproxy(gateway);
  });
  after(async () => {
    proxy?.child.kill('SIGTERM');
    await gateway?.close();
  });

  test('Stratum TCP with PROXY v2: a flood from one client bans that client, not the other clients of the balancer', { timeout: 60_000 }, async () => {
    const tcp = (address: string) => () => TestMiner.tcp(proxy.stratumPort, address);
    assert.equal(await admitted(tcp(ABUSER)), true);
    const held = await tcp(BYSTANDER)();
    await held.request('mining.subscribe', ['probe/1']);
    const sessions = [...gateway.view.hub.sessions.values()].map((s) => s.connection.remoteAddress);
    assert.ok(sessions.includes(BYSTANDER), `the session is the client's address, not HAProxy's: ${sessions}`);
    held.close();
    for (let i = 0; i < 2; i++) await abuse(await tcp(ABUSER)());
    assert.equal(await admitted(tcp(ABUSER)), false, 'the abuser is banned');
    assert.equal(await admitted(tcp(BYSTANDER)), true, 'another client of the same balancer is not');
    assert.equal(await metric(gateway, 'dao_gateway_bans_total{scope="address",reason="repeated connection bans"}'), 1);
    assert.equal(await metric(gateway, 'dao_gateway_proxy_headers_rejected_total{reason="invalid"}'), 0, `HAProxy log: ${proxy.log.join('')}; sessions ${sessions}`);
  });

  test('WebSocket Stratum with X-Forwarded-For: the same, and a forged X-Forwarded-For does not hide the abuser', { timeout: 60_000 }, async () => {
    const url = `http://127.0.0.1:${proxy.httpPort}/`;
    const ws = (address: string) => () => TestMiner.ws(url, address);
    // A different client than the TCP test's abuser: bans are per address, whatever the transport.
    const abuser = '127.0.0.4';
    assert.equal(await admitted(ws(abuser)), true);
    for (let i = 0; i < 2; i++) await abuse(await ws(abuser)());
    assert.equal(await admitted(ws(abuser)), false, 'the abuser is banned');
    assert.equal(await admitted(ws(BYSTANDER)), true, 'another client of the same balancer is not');
    // Forged: HAProxy appends the real address, the gateway reads the rightmost untrusted hop.
    const forged = new WebSocket(`ws://127.0.0.1:${proxy.httpPort}/stratum`, { localAddress: abuser, headers: { 'x-forwarded-for': BYSTANDER } });
    const closeCode = await new Promise<number>((resolve) => forged.on('close', (code) => resolve(code)).on('error', () => resolve(-1)));
    assert.equal(closeCode, 1008, 'refused as the banned abuser');
  });

  test('a PROXY header straight from an untrusted peer is not believed: the line is garbage, not an address', { timeout: 30_000 }, async () => {
    const direct = await TestMiner.tcp(gateway.stratumPort, '127.0.0.5');
    direct.sendRaw('PROXY TCP4 203.0.113.7 127.0.0.1 4711 3333');
    const reply = await direct.request('mining.subscribe', ['probe/1']);
    assert.ok(Array.isArray(reply.result), 'the connection goes on as 127.0.0.5');
    const session = [...gateway.view.hub.sessions.values()].find((s) => s.connection.remoteAddress === '127.0.0.5');
    assert.ok(session, 'counted under its own address');
    direct.close();
  });

  test('a trusted peer without a PROXY header is closed: at once for other bytes, after the header timeout for silence; both counted', { timeout: 30_000 }, async () => {
    const invalid = await metric(gateway, 'dao_gateway_proxy_headers_rejected_total{reason="invalid"}');
    const timeouts = await metric(gateway, 'dao_gateway_proxy_headers_rejected_total{reason="timeout"}');
    const stratum = connect({ host: '127.0.0.1', port: gateway.stratumPort });
    await new Promise((resolve) => stratum.once('connect', resolve));
    stratum.write('{"id":1,"method":"mining.subscribe","params":[]}\n');
    stratum.resume();
    await new Promise((resolve) => stratum.once('close', resolve));
    assert.equal(await metric(gateway, 'dao_gateway_proxy_headers_rejected_total{reason="invalid"}'), invalid + 1);
    const silent = connect({ host: '127.0.0.1', port: gateway.stratumPort });
    silent.resume();
    const began = Date.now();
    await new Promise((resolve) => silent.once('close', resolve));
    const heldMs = Date.now() - began;
    assert.ok(heldMs >= 400 && heldMs < 3_000, `closed after ${heldMs} ms (timeout 500 ms)`);
    assert.equal(await metric(gateway, 'dao_gateway_proxy_headers_rejected_total{reason="timeout"}'), timeouts + 1);
  });
});
