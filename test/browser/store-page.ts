// The page of test/store.browser.test.ts: exposes the member store on `window.storeTest`, so the
// test drives it with page.evaluate and keeps every assertion on the Node side.
import { openDB } from 'idb';
import { openMemberStore, type MemberStore } from '../../web/store/member-store.js';
import { MEMBER_DB_VERSION, upgradeMemberDb, type IdentityRecord, type MemberDB, type ShareRow } from '../../web/store/schema.js';

export type StoreMethod = Exclude<keyof MemberStore, 'close'>;
export interface StoreCall {
  dbName: string;
  method: StoreMethod;
  args: unknown[];
}
export type WorkerReply = { ok: true; value: unknown } | { ok: false; error: string };

export interface StoreTestApi {
  /** Calls `method` on the (cached) store of `dbName` in this page. */
  call(dbName: string, method: StoreMethod, args: unknown[]): Promise<unknown>;
  /** The same call in a fresh dedicated module worker. */
  callInWorker(dbName: string, method: StoreMethod, args: unknown[]): Promise<unknown>;
  /** getOrCreateIdentity on `connections` separate connections at once: the addresses each got. */
  raceIdentity(dbName: string, connections: number): Promise<string[]>;
  /** Opens `dbName` at version MEMBER_DB_VERSION + 1 while a store holds it open. */
  versionChange(dbName: string): Promise<{ notified: boolean; openedVersion: number; laterCallError: string }>;
  /**
   * Writes `dbName` as a browser of database version 2 left it (before share rows named their
   * member): `identity` and share rows without `member`.
   */
  seedVersion2(dbName: string, identity: IdentityRecord, shares: Omit<ShareRow, 'id'>[]): Promise<void>;
  /** Closes every store this page opened. */
  closeAll(): void;
}

const stores = new Map<string, Promise<MemberStore>>();

function store(dbName: string): Promise<MemberStore> {
  let opened = stores.get(dbName);
  if (!opened) {
    opened = openMemberStore(dbName);
    stores.set(dbName, opened);
  }
  return opened;
}

function invoke(target: MemberStore, method: StoreMethod, args: unknown[]): Promise<unknown> {
  return (target[method] as (...a: unknown[]) => Promise<unknown>)(...args);
}

function callInWorker(dbName: string, method: StoreMethod, args: unknown[]): Promise<unknown> {
  const worker = new Worker(new URL('./store-worker.ts', import.meta.url), { type: 'module' });
  return new Promise<unknown>((resolve, reject) => {
    worker.addEventListener('message', (event: MessageEvent<WorkerReply>) => {
      if (event.data.ok) resolve(event.data.value);
      else reject(new Error(`in the worker: ${event.data.error}`));
    });
    // A worker whose module fails to load reports only this event, with no message of its own.
    worker.addEventListener('error', (event) => reject(new Error(`the worker failed to start: ${event.message}`)));
    worker.postMessage({ dbName, method, args } satisfies StoreCall);
  }).finally(() => worker.terminate());
}

async function raceIdentity(dbName: string, connections: number): Promise<string[]> {
  const opened = await Promise.all(Array.from({ length: connections }, () => openMemberStore(dbName)));
  try {
    const identities = await Promise.all(opened.map((s) => s.getOrCreateIdentity()));
    return identities.map((identity) => identity.address);
  } finally {
    for (const s of opened) s.close();
  }
}

async function versionChange(dbName: string): Promise<{ notified: boolean; openedVersion: number; laterCallError: string }> {
  let notified = false;
  const held = await openMemberStore(dbName, { onVersionChange: () => (notified = true) });
  // Would wait forever if the held connection did not close itself on `versionchange`.
  const newer = await openDB(dbName, MEMBER_DB_VERSION + 1);
  const openedVersion = newer.version;
  newer.close();
  const laterCallError = await held.getConsent().then(
    () => 'no error',
    (error: unknown) => (error instanceof Error ? error.name : String(error)),
  );
  return { notified, openedVersion, laterCallError };
}

async function seedVersion2(dbName: string, identity: IdentityRecord, shares: Omit<ShareRow, 'id'>[]): Promise<void> {
  // Version 2's schema is what the upgrade steps up to version 2 create; those steps never change.
  const db = await openDB<MemberDB>(dbName, 2, { upgrade: (up, oldVersion, _newVersion, transaction) => upgradeMemberDb(up, oldVersion, transaction) });
  const tx = db.transaction(['identity', 'shares'], 'readwrite');
  await tx.objectStore('identity').put(identity, 'member');
  for (const row of shares) await tx.objectStore('shares').add(row as ShareRow);
  await tx.done;
  db.close();
}

const api: StoreTestApi = {
  call: async (dbName, method, args) => invoke(await store(dbName), method, args),
  callInWorker,
  raceIdentity,
  versionChange,
  seedVersion2,
  closeAll() {
    for (const opened of stores.values()) void opened.then((s) => s.close());
    stores.clear();
  },
};
(window as unknown as { storeTest: StoreTestApi }).storeTest = api;
