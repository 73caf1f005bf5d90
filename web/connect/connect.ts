// The small first-party window the widget opens from a partner's site (web/widget/membership.ts).
// As a top-level page on the DAO's origin its IndexedDB is the DAO's own, unpartitioned store: the
// same one the DAO app uses. It creates or reads the member's key there and tells its opener ONLY
// the address; the key never leaves this origin's storage.
//
// It answers only:
// - when it is a top-level window (never framed: a framed copy could be dressed up by a host page),
// - an opener on this very origin (the widget frame): it reads window.opener.location.origin, which
//   throws for any other origin, and posts with targetOrigin = this origin, so the browser drops the
//   message for any other opener anyway,
// - with the nonce the opener put in this page's fragment, echoed so the frame can match its click.
import { openMemberStore } from '../store/member-store.js';
import type { ConnectAnswer } from '../widget/membership.js';

const main = document.querySelector('main')!;
const statusLine = document.querySelector<HTMLElement>('#status')!;
/** How long the "connected" note stays before the window closes itself. */
const CLOSE_AFTER_MS = 600;

function show(state: 'refused' | 'connected' | 'error', text: string): void {
  main.dataset.state = state;
  statusLine.textContent = text;
}

function openerOnThisOrigin(): Window | undefined {
  const opener = window.opener as Window | null;
  if (!opener || window.top !== window) return undefined;
  try {
    return opener.location.origin === location.origin ? opener : undefined;
  } catch {
    return undefined;
  }
}

async function answer(): Promise<void> {
  const nonce = /^#nonce=([0-9a-f]{32})$/.exec(location.hash)?.[1];
  const opener = openerOnThisOrigin();
  if (!nonce || !opener) {
    show('refused', `This window only answers the Computing Power DAO widget that opened it. To contribute, open ${location.origin}/.`);
    return;
  }
  const reply = (message: Omit<ConnectAnswer, 'mark' | 'nonce'>): void =>
    opener.postMessage({ mark: 'dao-connect', nonce, ...message } satisfies ConnectAnswer, location.origin);
  try {
    const store = await openMemberStore();
    let address: string;
    try {
      address = (await store.getOrCreateIdentity(Date.now())).address;
    } finally {
      store.close();
    }
    reply({ type: 'address', address });
    show('connected', `Connected: the widget contributes for ${address}. This window closes by itself.`);
    setTimeout(() => window.close(), CLOSE_AFTER_MS);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    reply({ type: 'error', error: detail });
    show('error', `Could not open this site's storage for your member key (${detail}).`);
  }
}

void answer();
