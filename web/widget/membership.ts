// Who the widget mines for: the member's address, from a key that the DAO's origin holds
// FIRST-PARTY, so that every share the widget gets credited stays claimable in the DAO's own app.
//
// On a partner's site the frame is third-party: browsers block its IndexedDB (Chromium with
// third-party storage blocked, incognito) or partition it per top-level site (Firefox, Chrome's
// storage partitioning). A key made in a partitioned store would live only "inside partner X" and
// the DAO's own page would never see it, so the widget must not make one there. In order:
//
// 1. The frame's storage is first-party (top level, or every ancestor same-site; where the browser
//    does not list ancestors, document.hasStorageAccess() says so, which Firefox answers true only
//    for unpartitioned storage): the member store as the DAO app uses it.
// 2. Firefox-style storage access already granted for this origin (permission 'granted', so no
//    prompt can hang the click): requestStorageAccess() unpartitions the frame's storage; use it.
//    Chromium's grant unpartitions cookies only (IndexedDB would need the handle API), so Chromium
//    goes on to 3.
// 3. Otherwise a small window on the DAO's origin (/connect/connect.html), opened by the same click.
//    It is a top-level page, so its IndexedDB is the DAO's first-party store; it creates or reads
//    the key there and posts back ONLY the address (see web/connect/connect.ts).
//
// Call acquireMember() synchronously from the trusted click: window.open needs that click's user
// activation, and every path that can reach it awaits at most one quick browser call before it.
import { openMemberStore } from '../store/member-store.js';

export interface Member {
  address: string;
  via: 'first-party' | 'storage-access' | 'connect-window';
  /** The contributor's CPU choice where the frame could read it (first-party storage), else undefined. */
  cpuPercent?: number;
}

export type MembershipProblem = 'popup-blocked' | 'window-closed' | 'storage-denied' | 'timeout';

/** Why no address came: `message` says what happened and what to do. Nothing runs after it. */
export class MembershipError extends Error {
  constructor(readonly problem: MembershipProblem, message: string) {
    super(message);
    this.name = 'MembershipError';
  }
}

/** The message the connect window posts to its opener (and the frame accepts only this shape). */
export interface ConnectAnswer {
  mark: 'dao-connect';
  nonce: string;
  type: 'address' | 'error';
  address?: string;
  error?: string;
}

/** Where the connect page lives on the DAO origin (Vite keeps web/connect/connect.html's path). */
export const CONNECT_PATH = '/connect/connect.html';
/** How long the frame waits for the connect window before giving up (it then closes it). */
export const CONNECT_TIMEOUT_MS = 120_000;
/** How often the frame looks whether the contributor closed the connect window. */
const CLOSED_POLL_MS = 200;

/**
 * Same site, conservatively: same scheme and the same host name (ports may differ). Without the
 * public-suffix list a subdomain of the DAO counts as another site, which only means it takes the
 * connect window: never a key in a partitioned store.
 */
export function sameSite(a: string, b: string): boolean {
  try {
    const x = new URL(a);
    const y = new URL(b);
    return x.protocol === y.protocol && x.hostname === y.hostname;
  } catch {
    return false;
  }
}

/** true or false where the frame can tell at once; undefined where only hasStorageAccess() can. */
function firstPartyAtOnce(): boolean | undefined {
  if (window.top === window) return true;
  const ancestors = location.ancestorOrigins;
  if (ancestors && ancestors.length > 0) return Array.from(ancestors).every((origin) => sameSite(origin, location.origin));
  return undefined;
}

async function storageAccessGranted(): Promise<boolean> {
  try {
    const status = await navigator.permissions.query({ name: 'storage-access' as PermissionName });
    return status.state === 'granted';
  } catch {
    return false;
  }
}

async function fromStore(via: Member['via']): Promise<Member> {
  let store;
  try {
    store = await openMemberStore();
  } catch (error) {
    throw new MembershipError('storage-denied', `this browser did not let the widget open your member key's storage (${error instanceof Error ? error.message : String(error)}). Contribute on ${location.host} instead.`);
  }
  try {
    await store.grantConsent(Date.now());
    const { address } = await store.getOrCreateIdentity();
    const { cpuPercent } = await store.getSettings();
    return { address, via, cpuPercent };
  } finally {
    store.close();
  }
}

function randomNonce(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Opens the connect window (this must run inside the click) and waits for its one answer. */
function viaConnectWindow(timeoutMs: number): Promise<Member> {
  const nonce = randomNonce();
  const url = new URL(CONNECT_PATH, location.origin);
  // In the fragment: never sent to a server or in a Referer.
  url.hash = `nonce=${nonce}`;
  const popup = window.open(url.href, `dao-connect-${nonce}`, 'popup,width=440,height=360');
  if (!popup) {
    return Promise.reject(
      new MembershipError('popup-blocked', `your browser blocked the small ${location.host} window that keeps your member key. Allow pop-ups for this page and click Start again, or contribute on ${location.host}.`),
    );
  }
  return new Promise<Member>((resolve, reject) => {
    const finish = (outcome: () => void): void => {
      window.removeEventListener('message', onMessage);
      clearInterval(closedTimer);
      clearTimeout(deadline);
      outcome();
    };
    // Only that window, only on this very origin (the DAO's), only with this click's nonce.
    const onMessage = (event: MessageEvent): void => {
      if (event.source !== popup || event.origin !== location.origin) return;
      const answer = event.data as Partial<ConnectAnswer> | null;
      if (typeof answer !== 'object' || answer === null || answer.mark !== 'dao-connect' || answer.nonce !== nonce) return;
      if (answer.type === 'address' && typeof answer.address === 'string' && /^0x[0-9a-fA-F]{40}$/.test(answer.address)) {
        const address = answer.address;
        finish(() => resolve({ address, via: 'connect-window' }));
      } else if (answer.type === 'error') {
        const detail = typeof answer.error === 'string' ? answer.error.slice(0, 200) : 'unknown error';
        finish(() => reject(new MembershipError('storage-denied', `the ${location.host} window could not keep your member key (${detail}). Contribute on ${location.host} instead.`)));
      }
    };
    window.addEventListener('message', onMessage);
    const closedTimer = setInterval(() => {
      if (popup.closed) finish(() => reject(new MembershipError('window-closed', `the ${location.host} window closed before it gave your member address. Click Start again and leave it open until it closes itself.`)));
    }, CLOSED_POLL_MS);
    const deadline = setTimeout(() => {
      popup.close();
      finish(() => reject(new MembershipError('timeout', `the ${location.host} window did not answer within ${Math.round(timeoutMs / 1000)} s. Click Start again.`)));
    }, timeoutMs);
  });
}

/** The member to mine for. Call it synchronously from the trusted consent click (see the top). */
export async function acquireMember(options: { timeoutMs?: number } = {}): Promise<Member> {
  const atOnce = firstPartyAtOnce();
  if (atOnce === true) return fromStore('first-party');
  if (atOnce === undefined) {
    if (await document.hasStorageAccess()) return fromStore('first-party');
    if (await storageAccessGranted()) {
      try {
        await document.requestStorageAccess();
        return await fromStore('storage-access');
      } catch {
        // Refused after all: the connect window below still works (the click's activation lasts seconds).
      }
    }
  }
  return viaConnectWindow(options.timeoutMs ?? CONNECT_TIMEOUT_MS);
}
