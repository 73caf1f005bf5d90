// GET /api/history's cache on a real SQLite ledger: within 30 s every visitor gets the answer of one
// query (a share accepted meanwhile shows after the 30 s); concurrent first requests share it.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { HISTORY_BUCKET_MS, HISTORY_CACHE_MS, HistoryCache } from '../server/http/history-api.js';
import { openSqliteLedger } from '../server/ledger/sqlite-ledger.js';
import { share } from './helpers/ledger-cases.js';

test('the history is queried once per 30 s, and a share shows once the cache expires', async (t) => {
  const ledger = openSqliteLedger(join(mkdtempSync(join(tmpdir(), 'history-cache-')), 'ledger.db'));
  t.after(() => ledger.close());
  let nowMs = 100 * HISTORY_BUCKET_MS + 1_000;
  let queries = 0;
  const history = ledger.history.bind(ledger);
  ledger.history = (...args) => (queries++, history(...args));
  const cache = new HistoryCache(ledger, () => nowMs);

  assert.equal(await ledger.appendShare(share('a', { acceptedAtMs: nowMs - 500 })), true);
  const [first, second] = await Promise.all([cache.get(24), cache.get(24)]);
  assert.equal(first, second, 'concurrent requests share one answer');
  assert.equal(queries, 1);
  assert.equal(first.buckets.reduce((n, b) => n + b.shares, 0), 1);

  assert.equal(await ledger.appendShare(share('b', { acceptedAtMs: nowMs })), true);
  nowMs += HISTORY_CACHE_MS - 1;
  assert.equal((await cache.get(24)).buckets.reduce((n, b) => n + b.shares, 0), 1, 'cached: the new share is not queried yet');
  assert.equal(queries, 1);
  nowMs += 1;
  assert.equal((await cache.get(24)).buckets.reduce((n, b) => n + b.shares, 0), 2, 'after 30 s: queried again');
  assert.equal(queries, 2);
  await cache.get(1);
  assert.equal(queries, 3, 'each hours value is its own entry');
});
