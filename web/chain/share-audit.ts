// The member's check that the pool counted every share this device saw accepted: the shares the
// device recorded in an epoch's time window must all be in that epoch's audit bundle. Loaded only
// when the member asks (dao-chain-panel.ts), and it reads the bundle as a stream, keeping only this
// member's share identities, so a big epoch costs a download, not the page's memory.
import type { BundleShare } from '../../protocol/dao/audit-bundle.js';
import { u32ToHex } from '../../protocol/hex.js';
import type { MemberStore } from '../store/member-store.js';
import type { ShareRow } from '../store/schema.js';
import { fetchAuditBundle, fetchEpochWindow } from './gateway-api.js';

export interface ShareAuditResult {
  epoch: number;
  /** How many of the device's accepted shares belong to the epoch's window. */
  checked: number;
  /** Those the bundle does not hold. */
  missing: ShareRow[];
}

/** What identifies a share within a member's work: extranonce2, nonce and ntime (hex, as the device stores them). */
const identity = (extranonce2: string, nonce: string, ntime: string) => `${extranonce2.toLowerCase()}/${nonce.toLowerCase()}/${ntime.toLowerCase()}`;

async function* lines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let pending = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    pending += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = pending.indexOf('\n')) >= 0) {
      yield pending.slice(0, end);
      pending = pending.slice(end + 1);
    }
  }
}

/**
 * Checks `account`'s shares recorded on this device against epoch `epoch`'s bundle. A share sent in
 * the very moment the previous epoch closed may be in that epoch instead, and show here as missing.
 */
export async function checkSharesInEpoch(store: MemberStore, account: string, epoch: number): Promise<ShareAuditResult> {
  const window = await fetchEpochWindow(epoch);
  // Epoch 1 holds every share before its end (its startMs is the pool's first acceptance, after the send).
  const mine = await store.acceptedSharesIn(epoch === 1 ? 0 : window.startMs, window.endMs);
  const inBundle = new Set<string>();
  const member = `"member":"${account.toLowerCase()}"`;
  for await (const line of lines(await fetchAuditBundle(epoch))) {
    // Most lines are other members' shares: skipped without parsing.
    if (!line.startsWith('{"type":"share"') || !line.toLowerCase().includes(member)) continue;
    const share = JSON.parse(line) as BundleShare;
    inBundle.add(identity(share.extranonce2, u32ToHex(share.nonce), u32ToHex(share.ntime)));
  }
  const missing = mine.filter((share) => !inBundle.has(identity(share.extranonce2, share.nonce, share.ntime)));
  return { epoch, checked: mine.length, missing };
}
