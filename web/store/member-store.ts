// The member's local record: a small promise-based API over the `dao-member` IndexedDB database
// (schema.ts). It touches nothing but IndexedDB, so it runs the same in a window and in a worker.
//
//   const store = await openMemberStore();
//   if ((await store.getConsent())?.granted) { ... }
//   const id = await store.addShare({ poolUrl, jobId, extranonce2, nonce, ntime, difficulty, submittedAtMs: Date.now() });
//   await store.settleShare(id, { status: 'accepted', answeredAtMs: Date.now() });
//
// Every read-modify-write runs inside one IndexedDB transaction, and IndexedDB serializes
// read-write transactions on a store across every tab and worker of the origin, so two tabs that
// create the identity or settle a share at once cannot both win.
import { openDB, type IDBPDatabase } from 'idb';
import { difficultyToWork } from '../../protocol/target.js';
import { injectedIdentity, localIdentityFromKey, newLocalIdentity, publicIdentity, type Identity } from './identity.js';
import {
  MEMBER_DB_NAME,
  MEMBER_DB_VERSION,
  upgradeMemberDb,
  type AccrualSnapshot,
  type Consent,
  type IdentityRecord,
  type MemberDB,
  type MinerSettings,
  type NewShare,
  type ShareRow,
  type ShareStatus,
} from './schema.js';
import { grantedConsent, mergeMinerSettings, readMinerSettings, withdrawnConsent } from './settings.js';
import { accrualSnapshot, newShareRow, shareAnswer, type ShareAnswer } from './records.js';
import { chainRecords, type ChainRecords } from './chain-records.js';

export type { Identity } from './identity.js';
export type { ShareAnswer } from './records.js';
export type { ChainRecords, NewProof, NewVote, VoteProgress } from './chain-records.js';

export interface ShareCounts {
  pending: number;
  accepted: number;
  rejected: number;
}

export interface IdentityChangeOptions {
  /** Replace a stored identity with a different address. Export the old key first: it is gone after. */
  replace?: boolean;
  nowMs?: number;
}

export interface OpenMemberStoreOptions {
  /**
   * Called when another tab or worker opens a newer version of the database. This connection is
   * already closed by then (otherwise the upgrade would wait for it forever) and every later call
   * on this store fails: reload the page, or reopen the store in a worker.
   */
  onVersionChange?: () => void;
}

export interface MemberStore extends ChainRecords {
  /** undefined until the contributor has been asked. */
  getConsent(): Promise<Consent | undefined>;
  grantConsent(nowMs: number, options?: { mobileOptIn?: boolean }): Promise<Consent>;
  /** Returns the consent as now stored; undefined if consent was never granted. */
  withdrawConsent(nowMs: number): Promise<Consent | undefined>;

  /** The stored settings over the defaults (settings.ts); always valid. */
  getSettings(): Promise<MinerSettings>;
  /** Validates and clamps `changes` (settings.ts), stores the result and returns it. */
  saveSettings(changes: Partial<MinerSettings>): Promise<MinerSettings>;

  /** The stored identity, without creating one. */
  getIdentity(): Promise<Identity | undefined>;
  /** The stored identity; on first use, a new random local key, kept from then on. */
  getOrCreateIdentity(nowMs?: number): Promise<Identity>;
  /** The local private key as 0x + 64 lowercase hex digits. Throws for none or an injected one. */
  exportIdentity(): Promise<string>;
  /** Stores a pasted private key as the local identity; refuses garbage and, unless replace, a different stored identity. */
  importIdentity(privateKeyHex: string, options?: IdentityChangeOptions): Promise<Identity>;
  /** Uses an address from an injected wallet as the identity (no key stored). */
  useInjectedIdentity(address: string, options?: IdentityChangeOptions): Promise<Identity>;

  /** Records a share as sent (status pending) and returns its id. */
  addShare(share: NewShare): Promise<number>;
  /** Records the pool's answer to a pending share; returns the settled row. */
  settleShare(id: number, answer: ShareAnswer): Promise<ShareRow>;
  /** Up to `limit` shares, newest submittedAtMs first. */
  recentShares(limit: number): Promise<ShareRow[]>;
  /** The shares mined for `member` (every share when absent; rows from before shares named their member count for no one member). */
  shareCounts(member?: string): Promise<ShareCounts>;
  /** Work of `member`'s accepted shares (every member's when absent), in expected hashes (difficulty x 2^32 each): the "counted locally" figure. */
  acceptedWork(member?: string): Promise<number>;
  /** The accepted shares sent at or after `fromMs` and answered at or before `toMs`: those an epoch with that window must hold. */
  acceptedSharesIn(fromMs: number, toMs: number): Promise<ShareRow[]>;

  /** Stores a snapshot of the gateway's credit; one taken at the same atMs replaces it. */
  addAccrual(snapshot: AccrualSnapshot): Promise<void>;
  latestAccrual(): Promise<AccrualSnapshot | undefined>;

  close(): void;
}

/** Whether `share` was mined for `member` (addresses compared case-blind). */
function sameMember(share: ShareRow, member: string): boolean {
  return share.member !== undefined && share.member.toLowerCase() === member.toLowerCase();
}

/** Opens (creating or upgrading as needed) the member database `name`. */
export async function openMemberStore(name: string = MEMBER_DB_NAME, options: OpenMemberStoreOptions = {}): Promise<MemberStore> {
  const db: IDBPDatabase<MemberDB> = await openDB<MemberDB>(name, MEMBER_DB_VERSION, {
    upgrade: (database, oldVersion, _newVersion, transaction) => upgradeMemberDb(database, oldVersion, transaction),
    blocking: () => {
      db.close();
      options.onVersionChange?.();
    },
  });

  async function storeIdentity(record: IdentityRecord, replace: boolean): Promise<Identity> {
    const tx = db.transaction('identity', 'readwrite');
    const existing = await tx.store.get('member');
    if (existing && existing.address !== record.address && !replace) {
      tx.abort();
      await tx.done.catch(() => undefined);
      throw new Error(
        `an identity (${existing.address}) is already stored: export it first, then pass { replace: true } to replace it`,
      );
    }
    await tx.store.put(record, 'member');
    await tx.done;
    return publicIdentity(record);
  }

  return {
    ...chainRecords(db),
    async getConsent() {
      return (await db.get('settings', 'consent')) as Consent | undefined;
    },
    async grantConsent(nowMs, grantOptions = {}) {
      const consent = grantedConsent(nowMs, grantOptions.mobileOptIn ?? false);
      await db.put('settings', consent, 'consent');
      return consent;
    },
    async withdrawConsent(nowMs) {
      const tx = db.transaction('settings', 'readwrite');
      const next = withdrawnConsent((await tx.store.get('consent')) as Consent | undefined, nowMs);
      if (next) await tx.store.put(next, 'consent');
      await tx.done;
      return next;
    },

    async getSettings() {
      return readMinerSettings((await db.get('settings', 'miner')) as MinerSettings | undefined);
    },
    async saveSettings(changes) {
      const tx = db.transaction('settings', 'readwrite');
      const current = readMinerSettings((await tx.store.get('miner')) as MinerSettings | undefined);
      let next: MinerSettings;
      try {
        next = mergeMinerSettings(current, changes);
      } catch (error) {
        tx.abort();
        await tx.done.catch(() => undefined);
        throw error;
      }
      await tx.store.put(next, 'miner');
      await tx.done;
      return next;
    },

    async getIdentity() {
      const record = await db.get('identity', 'member');
      return record && publicIdentity(record);
    },
    async getOrCreateIdentity(nowMs = Date.now()) {
      const stored = await db.get('identity', 'member');
      if (stored) return publicIdentity(stored);
      // Make the key outside the transaction (an IndexedDB transaction commits as soon as it waits
      // on anything else), then store it only if no other tab stored one meanwhile.
      const fresh = newLocalIdentity(nowMs);
      const tx = db.transaction('identity', 'readwrite');
      const raced = await tx.store.get('member');
      if (!raced) await tx.store.put(fresh, 'member');
      await tx.done;
      return publicIdentity(raced ?? fresh);
    },
    async exportIdentity() {
      const record = await db.get('identity', 'member');
      if (!record) throw new Error('there is no identity to export yet');
      if (record.source !== 'local' || !record.privateKeyHex) {
        throw new Error(`the identity ${record.address} is held by an injected wallet: export it from that wallet`);
      }
      return record.privateKeyHex;
    },
    async importIdentity(privateKeyHex, change = {}) {
      return storeIdentity({ ...localIdentityFromKey(privateKeyHex, change.nowMs ?? Date.now()), imported: true }, change.replace ?? false);
    },
    async useInjectedIdentity(address, change = {}) {
      return storeIdentity(injectedIdentity(address, change.nowMs ?? Date.now()), change.replace ?? false);
    },

    async addShare(share) {
      // The cast: `id` is assigned by the store (autoIncrement), so the row has none yet.
      return db.add('shares', newShareRow(share) as ShareRow);
    },
    async settleShare(id, answer) {
      const settled = shareAnswer(answer);
      const tx = db.transaction('shares', 'readwrite');
      const row = await tx.store.get(id);
      if (!row || row.status !== 'pending') {
        tx.abort();
        await tx.done.catch(() => undefined);
        throw new Error(row ? `share ${id} was already settled as ${row.status}` : `there is no share ${id}`);
      }
      const next: ShareRow = { ...row, ...settled };
      await tx.store.put(next);
      await tx.done;
      return next;
    },
    async recentShares(limit) {
      const wanted = Math.max(0, Math.floor(limit));
      const rows: ShareRow[] = [];
      if (wanted === 0) return rows;
      // Equal submittedAtMs values come out by descending id, i.e. newest insert first.
      let cursor = await db.transaction('shares').store.index('by-submittedAtMs').openCursor(null, 'prev');
      while (cursor && rows.length < wanted) {
        rows.push(cursor.value);
        cursor = await cursor.continue();
      }
      return rows;
    },
    async shareCounts(member) {
      const index = db.transaction('shares').store.index('by-status');
      // Per member: the rows are read and filtered (a device holds thousands of shares, not millions).
      const count = async (status: ShareStatus) =>
        member === undefined ? index.count(status) : (await index.getAll(status)).filter((share) => sameMember(share, member)).length;
      const [pending, accepted, rejected] = await Promise.all([count('pending'), count('accepted'), count('rejected')]);
      return { pending, accepted, rejected };
    },
    async acceptedWork(member) {
      const accepted = await db.getAllFromIndex('shares', 'by-status', 'accepted');
      return accepted.filter((share) => member === undefined || sameMember(share, member)).reduce((sum, share) => sum + difficultyToWork(share.difficulty), 0);
    },

    async acceptedSharesIn(fromMs, toMs) {
      const sent = await db.getAllFromIndex('shares', 'by-submittedAtMs', IDBKeyRange.bound(fromMs, toMs));
      return sent.filter((share) => share.status === 'accepted' && share.answeredAtMs !== undefined && share.answeredAtMs <= toMs);
    },

    async addAccrual(snapshot) {
      await db.put('accrual', accrualSnapshot(snapshot));
    },
    async latestAccrual() {
      const cursor = await db.transaction('accrual').store.openCursor(null, 'prev');
      return cursor?.value;
    },

    close() {
      db.close();
    },
  };
}
