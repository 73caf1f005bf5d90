// The member's local record in IndexedDB: what this browser sent, what the pool answered, what the
// pool says it credited, the Merkle proofs of its work on-chain, and the votes it signed. It is the
// "counted locally" column of DESIGN.md ("How a share flows", item 6), so it keeps its own copy of
// every share rather than trusting the gateway's.
//
// Versioning: DB_VERSION only ever goes up, and `upgradeMemberDb` is a switch on the version the
// browser had, falling through from the oldest step to the newest, so a browser that skipped a
// release still runs every step in order. Version N+1 adds `case N:` below the last step; never
// edit a released step, since browsers that already ran it will not run it again.
import type { DBSchema, IDBPDatabase, IDBPTransaction, StoreNames } from 'idb';
import type { RelayStatus } from '../../protocol/api.js';

export const MEMBER_DB_NAME = 'dao-member';
export const MEMBER_DB_VERSION = 3;

/** The contributor's consent to mine. Nothing hashes unless `granted` is true. */
export interface Consent {
  granted: boolean;
  /** When consent was last granted (ms since the epoch). */
  grantedAtMs: number;
  /** Set when consent was withdrawn after the last grant; absent while consent stands. */
  withdrawnAtMs?: number;
  /** Mining on a phone or tablet needs its own opt-in (battery, heat, data). */
  mobileOptIn: boolean;
}

/** What the contributor chose for their device (DESIGN.md, "Respect for the contributor's device"). */
export interface MinerSettings {
  /** Duty cycle of the CPU engines, an integer percentage in 10..100. */
  cpuPercent: number;
  /** Number of hashing workers, an integer >= 1. */
  threads: number;
  useGpu: boolean;
  pauseWhenHidden: boolean;
  pauseOnBattery: boolean;
}

/** Keys of the `settings` store, each with its own value type (see SettingsValue). */
export type SettingsKey = 'consent' | 'miner';
export type SettingsValue<K extends SettingsKey> = K extends 'consent' ? Consent : MinerSettings;

/**
 * The member's identity: the EVM address that Stratum usernames and rewards use.
 * - `local`: a key this browser generated or imported. Kept as the raw private key hex, not an
 *   encrypted keystore: an encrypted keystore needs a password at every visit (or a stored one,
 *   which protects nothing), and scrypt costs seconds on a phone. The key is therefore only as safe
 *   as the browser profile: anything that runs script on this origin can read it. It is meant for
 *   crediting work, and the app should tell members to export it (or move payouts to a wallet of
 *   their own) before it guards real value.
 * - `injected`: an address from a wallet extension (EIP-1193); the key never leaves the wallet and
 *   `privateKeyHex` is absent.
 */
export interface IdentityRecord {
  /** EIP-55 checksummed address. */
  address: string;
  source: 'local' | 'injected';
  /** 0x + 64 lowercase hex digits; only for `local`. */
  privateKeyHex?: string;
  /** A `local` key the member imported (pasted), rather than one this browser created. */
  imported?: boolean;
  createdAtMs: number;
}

export type ShareStatus = 'pending' | 'accepted' | 'rejected';

/** A share as the browser submitted it: the mining.submit fields, hex as on the wire. */
export interface NewShare {
  poolUrl: string;
  /** The member address the share was mined for (absent in rows written before it was kept). */
  member?: string;
  jobId: string;
  extranonce2: string;
  nonce: string;
  ntime: string;
  /** BIP320 version rolling bits, when the pool negotiated version rolling. */
  versionBits?: string;
  /** The share difficulty the browser mined at (fractional for browsers). */
  difficulty: number;
  submittedAtMs: number;
}

/** A share in the store: what was sent plus the pool's answer once it came. */
export interface ShareRow extends NewShare {
  /** Auto-increment key: assigned by IndexedDB on insert. */
  id: number;
  status: ShareStatus;
  /** The pool's error text for a rejected share. */
  reason?: string;
  /** Display-order block hash of the share, when known. */
  hash?: string;
  answeredAtMs?: number;
}

/** A snapshot of what the gateway credits this member (GET /api/members/:address). */
export interface AccrualSnapshot {
  /** When the snapshot was taken (ms since the epoch); the key of the `accrual` store. */
  atMs: number;
  /** Total credited work, in expected hashes (difficulty * 2^32 per share). */
  work: number;
  shares: number;
  hashesPerSecond: number;
}

/**
 * The member's leaf in one published epoch, with its proof, and the verdict of checking it against
 * the root read from the chain (web/chain/verify.ts). Amounts are decimal strings (uint256).
 */
export interface ProofRow {
  /** `${epoch}:${account}`. */
  id: string;
  epoch: number;
  /** EIP-55 checksummed. */
  account: string;
  cumulativeWork: string;
  cumulativeReward: string;
  /** What this epoch added. */
  epochWork: string;
  epochReward: string;
  proof: string[];
  /** The root read from the chain for `epoch`: what the proof was checked against. */
  root: string;
  verified: boolean;
  /** Why the proof was not verified. */
  reason?: string;
  checkedAtMs: number;
}

/** Where the relayer is with a signed request (GET /api/votes/:address), as this device last saw it. */
export type { RelayStatus };

/** A vote this member signed (EIP-712 Ballot), and what became of it. */
export interface VoteRow {
  /** `${proposalId}:${voter}`. */
  id: string;
  /** Decimal string (uint256). */
  proposalId: string;
  /** EIP-55 checksummed. */
  voter: string;
  /** WorkGovernor.Support: 0 Against, 1 For, 2 Abstain. */
  support: 0 | 1 | 2;
  signature: string;
  signedAtMs: number;
  /** The relayer's id for the request. */
  relayId?: string;
  relayStatus: RelayStatus;
  relayError?: string;
  txHash?: string;
  /** governor.hasVoted(proposalId, voter), as last read from the chain. */
  onChain: boolean;
  updatedAtMs: number;
}

export interface MemberDB extends DBSchema {
  settings: { key: SettingsKey; value: Consent | MinerSettings };
  identity: { key: 'member'; value: IdentityRecord };
  shares: {
    key: number;
    value: ShareRow;
    indexes: { 'by-status': ShareStatus; 'by-submittedAtMs': number };
  };
  accrual: { key: number; value: AccrualSnapshot };
  proofs: { key: string; value: ProofRow; indexes: { 'by-account': [string, number] } };
  votes: { key: string; value: VoteRow; indexes: { 'by-voter': string } };
}

/** The `upgrade` callback of openDB: brings any older version of the database to MEMBER_DB_VERSION. */
export function upgradeMemberDb(
  db: IDBPDatabase<MemberDB>,
  oldVersion: number,
  transaction: IDBPTransaction<MemberDB, StoreNames<MemberDB>[], 'versionchange'>,
): void {
  switch (oldVersion) {
    case 0: {
      // Out-of-line keys: one record per setting name, so a setting is read and written alone.
      db.createObjectStore('settings');
      db.createObjectStore('identity');
      const shares = db.createObjectStore('shares', { keyPath: 'id', autoIncrement: true });
      shares.createIndex('by-status', 'status');
      shares.createIndex('by-submittedAtMs', 'submittedAtMs');
      db.createObjectStore('accrual', { keyPath: 'atMs' });
      db.createObjectStore('proofs', { keyPath: 'id' });
      db.createObjectStore('votes', { keyPath: 'id' });
    }
    case 1: {
      // Version 2: proofs and votes get their real rows. Version 1 created the stores as
      // placeholders and never wrote to them, so they are emptied (nothing of an unknown shape can
      // survive) and indexed: a member's proofs by epoch, and a voter's votes.
      const proofs = transaction.objectStore('proofs');
      void proofs.clear();
      proofs.createIndex('by-account', ['account', 'epoch']);
      const votes = transaction.objectStore('votes');
      void votes.clear();
      votes.createIndex('by-voter', 'voter');
    }
    case 2: {
      // Version 3: a share row names the member it was mined for, and every local figure is that
      // member's. Rows written before did not: they are given to the identity this browser holds,
      // the only one the app mined for unless the member replaced it (then the pool's figures,
      // which the page shows beside the local ones, tell the difference).
      void nameUnnamedShares(transaction);
    }
    // Version 4 goes here as `case 3:`; keep falling through, no `break`.
  }
}

async function nameUnnamedShares(transaction: IDBPTransaction<MemberDB, StoreNames<MemberDB>[], 'versionchange'>): Promise<void> {
  const identity = await transaction.objectStore('identity').get('member');
  if (!identity) return;
  for (let cursor = await transaction.objectStore('shares').openCursor(); cursor; cursor = await cursor.continue()) {
    if (cursor.value.member === undefined) await cursor.update({ ...cursor.value, member: identity.address });
  }
}
