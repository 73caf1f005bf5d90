// A dedicated module worker for test/store.browser.test.ts: runs one member-store call off the
// main thread, to show the store needs nothing but IndexedDB.
import { openMemberStore } from '../../web/store/member-store.js';
import type { StoreCall, WorkerReply } from './store-page.js';

self.addEventListener('message', async (event: MessageEvent<StoreCall>) => {
  const { dbName, method, args } = event.data;
  let reply: WorkerReply;
  try {
    const store = await openMemberStore(dbName);
    try {
      const value: unknown = await (store[method] as (...a: unknown[]) => Promise<unknown>)(...args);
      reply = { ok: true, value };
    } finally {
      store.close();
    }
  } catch (error) {
    reply = { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  self.postMessage(reply);
});
