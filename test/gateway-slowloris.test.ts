// Slowloris and malformed URLs against the real gateway (issue 13 item 3): 5,000 half-sent
// requests from one address are capped on arrival and timed out, while another address is
// answered at once; a bad percent-encoding or URL is a 400 logged at debug, never a 500.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { startTestGateway } from './helpers/gateway.js';
import { pino } from 'pino';
import { waitFor } from './helpers/wait-for.js';

const ABUSER = '127.0.0.2';
const BYSTANDER = '127.0.0.3';

/** A GET from `localAddress`: the status and how long the answer took. */
function timedGet(port: number, path: string, localAddress: string): Promise<{ status: number; ms: number; body: string }> {
  const began = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, localAddress, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - began, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The value of one series of the gateway's Prometheus text, 0 when absent. */
async function metric(httpUrl: string, series: string): Promise<number> {
  const text = await (await fetch(`${httpUrl}metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** Opens one Slowloris connection: a request line and one header, and never the blank line. */
function halfRequest(port: number, closed: { count: number }): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress: ABUSER });
    socket.on('error', () => {});
    // Read what the gateway says (its 408), or the socket never sees the gateway's end.
    socket.resume();
    socket.once('close', () => closed.count++);
    socket.once('connect', () => {
      socket.write('GET /healthz HTTP/1.1\r\nHost: gateway\r\nX-a: ');
      resolve(socket);
    });
    // Refused on arrival: resolves too (the socket closes right after its connect).
    socket.once('close', () => resolve(socket));
  });
}

describe('HTTP Slowloris', () => {
  test('5,000 half-sent requests from one address: capped on arrival, the rest timed out; another address is answered within 1 s', { timeout: 120_000 }, async (t) => {
    const headersTimeoutMs = 3_000;
    const gateway = await startTestGateway({ httpHeadersTimeoutMs: headersTimeoutMs, webRoot: '' });
    const sockets: Socket[] = [];
    const closed = { count: 0 };
    try {
      for (let i = 0; i < 5_000; i += 250) {
        sockets.push(...(await Promise.all(Array.from({ length: 250 }, () => halfRequest(gateway.httpPort, closed)))));
      }
      const cap = gateway.view.config.maxHttpConnectionsPerIp;
      const answer = await timedGet(gateway.httpPort, '/healthz', BYSTANDER);
      assert.equal(answer.status, 200);
      t.diagnostic(`another address answered in ${answer.ms.toFixed(1)} ms during the flood; ${closed.count} of 5,000 Slowloris sockets already closed`);
      assert.ok(answer.ms < 1_000, `another address was answered in ${answer.ms.toFixed(0)} ms`);
      // Over the cap: refused on arrival, before a byte of a request was read. (Those still in the
      // listen backlog are accepted as the first ones time out, up to the cap again.)
      assert.ok((await metric(gateway.httpUrl, 'dao_gateway_http_connections_refused_total{reason="per_ip_cap"}')) >= 5_000 - 4 * cap);
      // Under the cap: closed when their headers are late, a wave of at most `cap` per timeout.
      await waitFor('every Slowloris connection is closed after the headers timeout', () => closed.count === 5_000, 6 * headersTimeoutMs + 5_000);
      const timedOut = (await metric(gateway.httpUrl, 'dao_gateway_http_timeouts_total{kind="request"}')) + (await metric(gateway.httpUrl, 'dao_gateway_http_timeouts_total{kind="headers"}'));
      assert.ok(timedOut >= cap, `${timedOut} timed out`);
      const again = await timedGet(gateway.httpPort, '/healthz', ABUSER);
      assert.equal(again.status, 200, 'the address may connect again once its connections are gone');
    } finally {
      for (const socket of sockets) socket.destroy();
      await gateway.close();
    }
  });
});

describe('malformed URLs', () => {
  test('a bad percent-encoding or request target is a 400 on every route, logged at debug, never an error', { timeout: 60_000 }, async () => {
    const records: { level: number; msg: string }[] = [];
    const logger = pino({ level: 'debug', base: undefined }, { write: (line: string) => void records.push(JSON.parse(line)) });
    const gateway = await startTestGateway({ webRoot: '' }, { logger });
    try {
      for (const path of ['/%E0%A4%A', '/api/members/%ZZ', '/api/epochs/%E0%A4%A', '/api/votes/%ZZ', '/assets/%C3%28.js', '/%', '/healthz%FF']) {
        const { status, body } = await timedGet(gateway.httpPort, path, BYSTANDER);
        assert.equal(status, 400, `${path}: ${body}`);
        assert.match(JSON.parse(body).error, /malformed percent-encoding|not a/, path);
      }
      const absolute = await timedGet(gateway.httpPort, 'http://[bad', BYSTANDER);
      assert.equal(absolute.status, 400);
      assert.ok((await metric(gateway.httpUrl, 'dao_gateway_http_bad_requests_total')) >= 8);
      assert.deepEqual(records.filter((r) => r.level >= 50), [], 'nothing at error level');
      assert.ok(records.filter((r) => r.level === 20 && r.msg === 'HTTP request refused').length >= 8, 'each refusal logged at debug');
    } finally {
      await gateway.close();
    }
  });
});
