// The member's local record (web/store/) in headless Chromium, on real IndexedDB: consent,
// settings, identity, shares and accrual, in a window and in a worker, and what survives a page
// reload and a browser restart. The browser runs on a persistent profile directory so a second
// launch on the same directory is the same browser profile coming back; IndexedDB belongs to an
// origin, so one dev server (one port) serves the whole file.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Wallet } from 'ethers';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { StoreMethod, StoreTestApi } from './browser/store-page.js';
import { CHROMIUM_PATH, WEBGPU_CHROMIUM_ARGS, startDevServer, type DevServer } from './helpers/browser.js';
import { MEMBER_DB_VERSION, type AccrualSnapshot, type Consent, type MinerSettings, type NewShare, type ShareRow } from '../web/store/schema.js';
import type { Identity, ShareCounts } from '../web/store/member-store.js';

// The textbook key pair: private key 1 and its address (a public vector, never to hold value).
const KNOWN_KEY = `0x${'0'.repeat(63)}1`;
const KNOWN_ADDRESS = '0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf';

function share(overrides: Partial<NewShare> = {}): NewShare {
  return {
    poolUrl: 'ws://127.0.0.1:8080/stratum',
    jobId: '1a',
    extranonce2: '00000001',
    nonce: 'ed460d91',
    ntime: '64b3f3ec',
    difficulty: 0.001,
    submittedAtMs: 1_700_000_000_000,
    ...overrides,
  };
}

describe('member store in Chromium (IndexedDB)', () => {
  let server: DevServer;
  let userDataDir: string;
  let context: BrowserContext | undefined;
  let page: Page;
  const errors: string[] = [];

  /** The browser on the test's profile directory, with the store page open. */
  async function launch(): Promise<void> {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      args: [...WEBGPU_CHROMIUM_ARGS],
      headless: true,
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      // The browser asks for /favicon.ico on its own; the dev server has none.
      if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico')) errors.push(`console: ${message.text()}`);
    });
    await page.goto(`${server.url}test/browser/store.html`);
    await storePageReady();
  }

  async function storePageReady(): Promise<void> {
    await page.waitForFunction(() => 'storeTest' in window, undefined, { timeout: 20_000 }).catch(() => {
      throw new Error(`the store page did not load: ${errors.join('; ') || 'no error reported'}`);
    });
  }

  /** One store call in the page (or in a worker it starts); errors come back as rejections. */
  function call<T>(dbName: string, method: StoreMethod, ...args: unknown[]): Promise<T> {
    return page.evaluate(
      ([name, m, a]) => (window as unknown as { storeTest: StoreTestApi }).storeTest.call(name, m, a),
      [dbName, method, args] as const,
    ) as Promise<T>;
  }
  function callInWorker<T>(dbName: string, method: StoreMethod, ...args: unknown[]): Promise<T> {
    return page.evaluate(
      ([name, m, a]) => (window as unknown as { storeTest: StoreTestApi }).storeTest.callInWorker(name, m, a),
      [dbName, method, args] as const,
    ) as Promise<T>;
  }

  before(async () => {
    server = await startDevServer();
    userDataDir = await mkdtemp(join(tmpdir(), 'dao-store-profile-'));
    await launch();
  });

  after(async () => {
    await context?.close();
    await server?.close();
    if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
  });

  test('consent: absent until granted, granted, withdrawn, granted again', async () => {
    assert.equal(await call('consent', 'getConsent'), undefined);
    assert.equal(await call('consent', 'withdrawConsent', 500), undefined, 'nothing to withdraw');
    assert.deepEqual(await call('consent', 'grantConsent', 1_000, { mobileOptIn: true }), { granted: true, grantedAtMs: 1_000, mobileOptIn: true });
    assert.deepEqual(await call('consent', 'getConsent'), { granted: true, grantedAtMs: 1_000, mobileOptIn: true });
    const withdrawn: Consent = { granted: false, grantedAtMs: 1_000, withdrawnAtMs: 2_000, mobileOptIn: false };
    assert.deepEqual(await call('consent', 'withdrawConsent', 2_000), withdrawn);
    assert.deepEqual(await call('consent', 'withdrawConsent', 3_000), withdrawn, 'a second withdrawal keeps the first time');
    assert.deepEqual(await call('consent', 'getConsent'), withdrawn);
    assert.deepEqual(await call('consent', 'grantConsent', 4_000), { granted: true, grantedAtMs: 4_000, mobileOptIn: false });
    await assert.rejects(call('consent', 'grantConsent', Number.NaN), /nowMs must be a time/);
  });

  test('settings: defaults, clamping, validation', async () => {
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const defaults: MinerSettings = { cpuPercent: 50, threads: Math.max(1, cores - 1), useGpu: false, pauseWhenHidden: true, pauseOnBattery: true };
    assert.deepEqual(await call('settings', 'getSettings'), defaults);

    const saved = await call<MinerSettings>('settings', 'saveSettings', { cpuPercent: 33.6, useGpu: true });
    assert.deepEqual(saved, { ...defaults, cpuPercent: 34, useGpu: true });
    assert.deepEqual(await call('settings', 'getSettings'), saved, 'a partial save keeps the other settings');

    assert.equal((await call<MinerSettings>('settings', 'saveSettings', { cpuPercent: 3 })).cpuPercent, 10);
    assert.equal((await call<MinerSettings>('settings', 'saveSettings', { cpuPercent: 250 })).cpuPercent, 100);
    assert.equal((await call<MinerSettings>('settings', 'saveSettings', { threads: 0 })).threads, 1);
    assert.equal((await call<MinerSettings>('settings', 'saveSettings', { threads: 1.9 })).threads, 1);
    assert.equal((await call<MinerSettings>('settings', 'saveSettings', { threads: 10_000 })).threads, cores, 'at most the cores');

    const before = await call<MinerSettings>('settings', 'getSettings');
    await assert.rejects(call('settings', 'saveSettings', { cpuPercent: 'lots' }), /cpuPercent must be a finite number/);
    await assert.rejects(call('settings', 'saveSettings', { threads: Number.NaN }), /threads must be a finite number/);
    await assert.rejects(call('settings', 'saveSettings', { useGpu: 'yes' }), /useGpu must be true or false/);
    await assert.rejects(call('settings', 'saveSettings', { turbo: true }), /unknown miner setting "turbo"/);
    assert.deepEqual(await call('settings', 'getSettings'), before, 'a refused save changes nothing');
  });

  test('identity: created once, also under concurrent first use', async () => {
    assert.equal(await call('identity', 'getIdentity'), undefined);
    const first = await call<Identity>('identity', 'getOrCreateIdentity');
    assert.equal(first.source, 'local');
    assert.match(first.address, /^0x[0-9a-fA-F]{40}$/);
    assert.deepEqual(await call('identity', 'getOrCreateIdentity'), first);
    assert.deepEqual(await callInWorker('identity', 'getOrCreateIdentity'), first, 'a worker sees the same identity');

    const exported = await call<string>('identity', 'exportIdentity');
    assert.match(exported, /^0x[0-9a-f]{64}$/);
    assert.equal(new Wallet(exported).address, first.address, 'the exported key is the key of the address');

    const raced = await page.evaluate(() => (window as unknown as { storeTest: StoreTestApi }).storeTest.raceIdentity('identity-race', 4));
    assert.equal(new Set(raced).size, 1, `four connections creating at once agree: ${raced.join(', ')}`);
  });

  test('identity: export/import round trip; garbage and silent replacement refused', async () => {
    await assert.rejects(call('import', 'exportIdentity'), /no identity to export/);
    assert.deepEqual(await call('import', 'importIdentity', ` ${KNOWN_KEY.slice(2).toUpperCase()} `), { address: KNOWN_ADDRESS, source: 'local', imported: true });
    assert.equal(await call('import', 'exportIdentity'), KNOWN_KEY);
    assert.deepEqual(await call('import', 'importIdentity', KNOWN_KEY), { address: KNOWN_ADDRESS, source: 'local', imported: true }, 'the same key again is fine');

    // Zero and the secp256k1 group order n are the first numbers outside the key range.
    const garbage = ['hello', '0x1234', `0x${'0'.repeat(64)}`, '0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141', KNOWN_ADDRESS, 'test test test test test test test test test test test junk', 42];
    for (const input of garbage) {
      await assert.rejects(call('import', 'importIdentity', input), /not a private key|must be a string/, `refuses ${String(input)}`);
    }

    const other = Wallet.createRandom();
    await assert.rejects(call('import', 'importIdentity', other.privateKey), /already stored.*replace: true/);
    assert.deepEqual(await call('import', 'getIdentity'), { address: KNOWN_ADDRESS, source: 'local', imported: true }, 'refusals change nothing');
    assert.deepEqual(await call('import', 'importIdentity', other.privateKey, { replace: true }), { address: other.address, source: 'local', imported: true });
    assert.equal(await call('import', 'exportIdentity'), other.privateKey.toLowerCase());

    assert.deepEqual(await call('injected', 'useInjectedIdentity', KNOWN_ADDRESS.toLowerCase()), { address: KNOWN_ADDRESS, source: 'injected' });
    await assert.rejects(call('injected', 'exportIdentity'), /injected wallet/);
  });

  test('shares: added pending, settled once, counted, newest first', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) ids.push(await call<number>('shares', 'addShare', share({ nonce: `0000000${i}`, submittedAtMs: 1_000 + i * 10 })));
    // Same submittedAtMs as the last one: the later insert counts as newer.
    ids.push(await call<number>('shares', 'addShare', share({ nonce: '000000ff', submittedAtMs: 1_040, versionBits: '00002000' })));
    assert.deepEqual(await call('shares', 'shareCounts'), { pending: 6, accepted: 0, rejected: 0 } satisfies ShareCounts);

    const accepted = await call<ShareRow>('shares', 'settleShare', ids[0], { status: 'accepted', hash: 'AB'.repeat(32), answeredAtMs: 1_100 });
    assert.deepEqual(accepted, { ...share({ nonce: '00000000', submittedAtMs: 1_000 }), id: ids[0], status: 'accepted', hash: 'ab'.repeat(32), answeredAtMs: 1_100 });
    await call('shares', 'settleShare', ids[1], { status: 'accepted', answeredAtMs: 1_110 });
    await call('shares', 'settleShare', ids[2], { status: 'rejected', reason: 'Duplicate share (22)', answeredAtMs: 1_120 });
    assert.deepEqual(await call('shares', 'shareCounts'), { pending: 3, accepted: 2, rejected: 1 });

    await assert.rejects(call('shares', 'settleShare', ids[0], { status: 'rejected', answeredAtMs: 1_200 }), /already settled as accepted/);
    await assert.rejects(call('shares', 'settleShare', 9_999, { status: 'accepted', answeredAtMs: 1_200 }), /there is no share 9999/);
    await assert.rejects(call('shares', 'settleShare', ids[3], { status: 'pending', answeredAtMs: 1_200 }), /accepted or rejected/);
    await assert.rejects(call('shares', 'addShare', share({ nonce: 'xyz' })), /nonce must be hex/);
    await assert.rejects(call('shares', 'addShare', share({ difficulty: 0 })), /difficulty must be a finite positive number/);
    assert.deepEqual(await call('shares', 'shareCounts'), { pending: 3, accepted: 2, rejected: 1 }, 'refusals change nothing');


    const recent = await call<ShareRow[]>('shares', 'recentShares', 4);
    assert.deepEqual(recent.map((row) => row.id), [ids[5], ids[4], ids[3], ids[2]]);
    assert.equal(recent[0]!.versionBits, '00002000');
    assert.equal(recent[3]!.reason, 'Duplicate share (22)');
    assert.deepEqual(await call('shares', 'recentShares', 0), []);
    assert.equal((await call<ShareRow[]>('shares', 'recentShares', 100)).length, 6);

    const fromWorker = await callInWorker<number>('shares', 'addShare', share({ submittedAtMs: 2_000 }));
    assert.equal((await call<ShareRow[]>('shares', 'recentShares', 1))[0]!.id, fromWorker, 'a share a worker added is seen by the page');

    // Per member: a share names the member it was mined for, and counts only for that one.
    const member = '0x' + 'aB'.repeat(20);
    const mine = await call<number>('shares', 'addShare', share({ nonce: '00000abc', submittedAtMs: 1_050, member }));
    await call('shares', 'settleShare', mine, { status: 'accepted', answeredAtMs: 1_150 });
    assert.deepEqual(await call('shares', 'shareCounts', member.toLowerCase()), { pending: 0, accepted: 1, rejected: 0 }, 'the member\'s own share, case-blind');
    assert.deepEqual(await call('shares', 'shareCounts', '0x' + '01'.repeat(20)), { pending: 0, accepted: 0, rejected: 0 }, 'another identity counts none of them');
    assert.equal(Math.round(await call<number>('shares', 'acceptedWork', member)), Math.round(0.001 * 2 ** 32), 'the work of that one share (difficulty 0.001)');
    assert.deepEqual(await call('shares', 'shareCounts'), { pending: 4, accepted: 3, rejected: 1 }, 'without a member: every share');
  });

  test('upgrading from version 2: shares written before rows named their member count for the identity this browser holds', async () => {
    const identity = { address: KNOWN_ADDRESS, source: 'local', privateKeyHex: KNOWN_KEY, createdAtMs: 1_000 };
    const rows = [
      { ...share({ nonce: '00000001' }), status: 'accepted', answeredAtMs: 1_700_000_000_100 },
      { ...share({ nonce: '00000002' }), status: 'pending' },
    ];
    await page.evaluate(([id, r]) => (window as unknown as { storeTest: StoreTestApi }).storeTest.seedVersion2('from-v2', id as never, r as never), [identity, rows] as const);
    assert.deepEqual(await call('from-v2', 'shareCounts', KNOWN_ADDRESS), { pending: 1, accepted: 1, rejected: 0 } satisfies ShareCounts);
    assert.deepEqual((await call<ShareRow[]>('from-v2', 'recentShares', 10)).map((row) => row.member), [KNOWN_ADDRESS, KNOWN_ADDRESS]);
  });

  test('accrual: latest snapshot by time, whatever the insertion order', async () => {
    assert.equal(await call('accrual', 'latestAccrual'), undefined);
    const at = (atMs: number, work: number): AccrualSnapshot => ({ atMs, work, shares: work / 2 ** 32, hashesPerSecond: 1_500_000 });
    await call('accrual', 'addAccrual', at(2_000, 2 * 2 ** 32));
    await call('accrual', 'addAccrual', at(3_000, 3 * 2 ** 32));
    await call('accrual', 'addAccrual', at(1_000, 2 ** 32));
    assert.deepEqual(await call('accrual', 'latestAccrual'), at(3_000, 3 * 2 ** 32));
    await call('accrual', 'addAccrual', at(3_000, 4 * 2 ** 32));
    assert.deepEqual(await call('accrual', 'latestAccrual'), at(3_000, 4 * 2 ** 32), 'same atMs replaces');
    await assert.rejects(call('accrual', 'addAccrual', { ...at(4_000, 1), work: -1 }), /accrual work must be a finite non-negative number/);
  });

  test('a newer database version elsewhere closes this connection instead of blocking it', async () => {
    const result = await page.evaluate(() => (window as unknown as { storeTest: StoreTestApi }).storeTest.versionChange('upgrade'));
    assert.deepEqual(result, { notified: true, openedVersion: MEMBER_DB_VERSION + 1, laterCallError: 'InvalidStateError' });
  });

  test('everything survives a page reload and a browser restart', async () => {
    const dbName = 'dao-member'; // the default name, as the app will use it
    await call(dbName, 'grantConsent', 5_000, { mobileOptIn: true });
    await call(dbName, 'saveSettings', { cpuPercent: 70, threads: 1, pauseOnBattery: false });
    const identity = await call<Identity>(dbName, 'getOrCreateIdentity');
    const key = await call<string>(dbName, 'exportIdentity');
    const id = await call<number>(dbName, 'addShare', share());
    await call(dbName, 'settleShare', id, { status: 'accepted', answeredAtMs: 5_100 });
    await call(dbName, 'addShare', share({ submittedAtMs: 1_700_000_000_500 }));
    const accrual: AccrualSnapshot = { atMs: 6_000, work: 2 ** 32 / 1000, shares: 1, hashesPerSecond: 2_000_000 };
    await call(dbName, 'addAccrual', accrual);

    const readBack = async () => ({
      consent: await call(dbName, 'getConsent'),
      settings: await call<MinerSettings>(dbName, 'getSettings'),
      identity: await call(dbName, 'getOrCreateIdentity'),
      key: await call(dbName, 'exportIdentity'),
      counts: await call(dbName, 'shareCounts'),
      recent: (await call<ShareRow[]>(dbName, 'recentShares', 10)).map((row) => `${row.id}:${row.status}`),
      accrual: await call(dbName, 'latestAccrual'),
    });
    const written = await readBack();
    assert.deepEqual(written.consent, { granted: true, grantedAtMs: 5_000, mobileOptIn: true });
    assert.equal(written.settings.cpuPercent, 70);
    assert.deepEqual(written.identity, identity);
    assert.equal(written.key, key);
    assert.deepEqual(written.counts, { pending: 1, accepted: 1, rejected: 0 });
    assert.deepEqual(written.accrual, accrual);

    await page.reload();
    await storePageReady();
    assert.deepEqual(await readBack(), written, 'after a page reload');

    await context!.close();
    context = undefined;
    await launch();
    assert.deepEqual(await readBack(), written, 'after closing the browser and starting it on the same profile');
    assert.deepEqual(errors, []);
  });
});
