// One shutdown sequence for the gateway: close() and a failed start close the same parts, in
// reverse order of starting, once. A backend the caller passed in is the caller's to close on
// every path; one the gateway opened is closed with its instance registration.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pino } from 'pino';
import type { Backend } from '../server/backend/backend.js';
import { openBackend } from '../server/backend/open-backend.js';
import { DEFAULT_CONFIG, type GatewayConfig } from '../server/config.js';
import { startGateway } from '../server/gateway.js';
import { share } from './helpers/ledger-cases.js';
import { ManualSource } from './helpers/manual-source.js';
import { queryOnce, useFreshDatabase } from './helpers/pg.js';
import { waitFor } from './helpers/wait-for.js';

const log = pino({ level: 'silent' });
const database = useFreshDatabase();
const config = (extra: Partial<GatewayConfig> = {}): GatewayConfig => ({
  ...DEFAULT_CONFIG,
  httpPort: 0,
  stratumPort: 0,
  dataDir: mkdtempSync(join(tmpdir(), 'dao-shutdown-')),
  logLevel: 'silent',
  webRoot: '',
  ...extra,
});

/** A port held by a server of the test's own, so the gateway's listen fails. */
const taken: Server = createServer();
const takenPort = await new Promise<number>((resolve) => taken.listen(0, '127.0.0.1', () => resolve((taken.address() as AddressInfo).port)));
after(() => taken.close());

/** A source and a backend that write down what is stopped and closed, in order. */
async function spies(events: string[]): Promise<{ source: ManualSource; backend: Backend; opened: Backend }> {
  const source = new ManualSource();
  source.stop = async () => void events.push('source stopped');
  const opened = await openBackend(config(), log);
  const backend: Backend = {
    label: opened.label,
    ledger: opened.ledger,
    async registerInstance(l) {
      const registration = await opened.registerInstance(l);
      return {
        instanceId: registration.instanceId,
        get problem() {
          return registration.problem;
        },
        stop: async () => {
          events.push('registration stopped');
          await registration.stop();
        },
      };
    },
    settlementStore: (l) => opened.settlementStore(l),
    relayStorage: (l) => opened.relayStorage(l),
    leadership: (options) => opened.leadership(options),
    close: async () => {
      events.push('backend closed');
      await opened.close();
    },
  };
  return { source, backend, opened };
}

test('close(): the parts close in reverse order of starting, once; the caller keeps its backend open', async () => {
  const events: string[] = [];
  const { source, backend, opened } = await spies(events);
  const gateway = await startGateway(config(), { source, backend, logger: log });
  await Promise.all([gateway.close(), gateway.close()]);
  await gateway.close();
  assert.deepEqual(events, ['source stopped', 'registration stopped']);
  assert.equal(await opened.ledger.appendShare(share('after-close')), true, "the caller's ledger still takes shares");
  await opened.close();
});

test('a start that fails (port taken) closes what it started the same way, and not the caller backend', async () => {
  const events: string[] = [];
  const { source, backend, opened } = await spies(events);
  await assert.rejects(startGateway(config({ host: '127.0.0.1', stratumPort: takenPort }), { source, backend, logger: log }), { code: 'EADDRINUSE' });
  assert.deepEqual(events, ['source stopped', 'registration stopped']);
  assert.equal(await opened.ledger.appendShare(share('after-failed-start')), true, "the caller's ledger still takes shares");
  await opened.close();
});

test('postgres: a start that fails (port taken) unregisters its instance id and closes every connection it opened', async () => {
  const url = database().url;
  const others = "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()";
  await assert.rejects(startGateway(config({ host: '127.0.0.1', ledger: url, instanceId: 6, stratumPort: takenPort }), { source: new ManualSource(), logger: log }), { code: 'EADDRINUSE' });
  assert.deepEqual(await queryOnce(url, 'SELECT instance_id FROM gateways'), [], 'the instance id is free at once');
  await waitFor('every connection of the ledger to end', async () => (await queryOnce<{ n: number }>(url, others))[0]?.n === 0, 5_000);
  // The id is free: a second start with it succeeds.
  const gateway = await startGateway(config({ ledger: url, instanceId: 6 }), { source: new ManualSource(), logger: log });
  await gateway.close();
  await waitFor('close() to end every connection too', async () => (await queryOnce<{ n: number }>(url, others))[0]?.n === 0, 5_000);
});
