// The ledger's backend: opening the ledger gives everything that depends on the database, so
// nothing else asks which one it is. SQLite: its own stores, always the leader, nothing to
// register. PostgreSQL: the shared stores (tables migrated), an election (not led before it
// starts), and a registration row in `gateways`.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { openBackend } from '../server/backend/open-backend.js';
import { DEFAULT_CONFIG } from '../server/config.js';
import { PgLedger } from '../server/ledger/pg/pg-ledger.js';
import { SqliteLedger } from '../server/ledger/sqlite-ledger.js';
import { PgRelayStorage } from '../server/relayer/pg-request-store.js';
import { SqliteRelayStorage } from '../server/relayer/sqlite-relay-storage.js';
import type { RelayStorage } from '../server/relayer/request-store.js';
import { PgLeaderElection } from '../server/settlement/leader.js';
import { PgSettlementStore } from '../server/settlement/pg-settlement-store.js';
import { SqliteSettlementStore } from '../server/settlement/sqlite-settlement-store.js';
import { queryOnce, useFreshDatabase } from './helpers/pg.js';

const log = pino({ level: 'silent' });

/** depth() counts waiting requests by kind and status (the relay queue gauge), one grouped query. */
async function assertRelayDepth(store: RelayStorage): Promise<void> {
  assert.deepEqual(await store.depth(), [], 'an empty queue has no rows');
  const account = '0x52908400098527886E0F7030069857D2E4169EE7';
  await store.enqueue('vote', 'depth-v1', account, {});
  await store.enqueue('vote', 'depth-v2', account, {});
  const claim = await store.enqueue('claim', 'depth-c1', account, {});
  assert.ok('id' in claim);
  await store.markSent([claim.id], '0x' + '11'.repeat(32));
  const depth = (await store.depth()).sort((a, b) => a.kind.localeCompare(b.kind));
  assert.deepEqual(depth, [
    { kind: 'claim', status: 'sent', count: 1 },
    { kind: 'vote', status: 'queued', count: 2 },
  ]);
}
const database = useFreshDatabase();

test('sqlite: the file ledger, its own settlement and relay stores, always the leader, an id nobody else can hold', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'dao-backend-'));
  const backend = await openBackend({ ...DEFAULT_CONFIG, dataDir, instanceId: 4 }, log);
  try {
    assert.ok(backend.ledger instanceof SqliteLedger);
    assert.equal(backend.label, join(dataDir, 'ledger.sqlite'));
    assert.ok((await backend.settlementStore(log)) instanceof SqliteSettlementStore);
    assert.ok((await backend.relayStorage(log)) instanceof SqliteRelayStorage);
    await assertRelayDepth(await backend.relayStorage(log));
    const leadership = backend.leadership({ log });
    assert.equal(leadership.isLeader, true);
    await leadership.start();
    assert.equal(leadership.isLeader, true);
    const registration = await backend.registerInstance(log);
    assert.equal(registration.instanceId, 4);
    assert.equal(registration.problem, undefined);
    await registration.stop();
  } finally {
    await backend.close();
  }
});

test('an unknown ledger kind is refused before anything opens', async () => {
  await assert.rejects(openBackend({ ...DEFAULT_CONFIG, ledger: 'mysql://u:secret@h/db' }, log), /ledger must be sqlite or a postgres:\/\/ URL, got "mysql:\/\/u:\*\*\*@h\/db"/);
});

test('postgres: the shared ledger, migrated shared stores, an election, and a registered instance id', async () => {
  const url = database().url;
  const backend = await openBackend({ ...DEFAULT_CONFIG, ledger: url, instanceId: 5 }, log);
  try {
    assert.ok(backend.ledger instanceof PgLedger);
    assert.doesNotMatch(backend.label, /:dao@/, 'the label hides the password');
    assert.ok((await backend.settlementStore(log)) instanceof PgSettlementStore);
    assert.ok((await backend.relayStorage(log)) instanceof PgRelayStorage);
    await assertRelayDepth(await backend.relayStorage(log));
    const tables = await queryOnce<{ table_name: string }>(url, "SELECT table_name FROM information_schema.tables WHERE table_name IN ('epochs', 'relay_requests') ORDER BY table_name");
    assert.deepEqual(tables.map((t) => t.table_name), ['epochs', 'relay_requests']);
    const leadership = backend.leadership({ log, retryMs: 200 });
    assert.ok(leadership instanceof PgLeaderElection);
    assert.equal(leadership.isLeader, false, 'not the leader before the election starts');
    await leadership.start();
    assert.equal(leadership.isLeader, true, 'alone: elected at the first try');
    await leadership.stop();
    const registration = await backend.registerInstance(log);
    assert.deepEqual(await queryOnce(url, 'SELECT instance_id FROM gateways'), [{ instance_id: 5 }]);
    await registration.stop();
    assert.deepEqual(await queryOnce(url, 'SELECT instance_id FROM gateways'), []);
  } finally {
    await backend.close();
  }
});
