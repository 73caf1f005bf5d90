import { ProtocolError } from '../errors.js';
import { hexToU32, u32ToHex } from '../hex.js';
import { StratumRpcError } from './errors.js';
import { parseSubscribeResult, type Subscription } from './subscription.js';

/**
 * The client side of a Stratum V1 handshake: mining.configure (first, as BIP310 asks, and only
 * when version rolling is wanted), mining.subscribe, mining.authorize.
 */

export interface HandshakeOptions {
  /** Names the pool in error messages ("upstream pool HOST:PORT", "the pool"). */
  pool: string;
  userAgent: string;
  user: string;
  password: string;
  /** The previous session's subscription id, so that a pool that supports it resumes our extranonce1. */
  subscriptionId?: string;
  /** Ask for BIP310 version rolling with this mask; absent: do not configure. */
  versionMask?: number;
  /**
   * Called with the subscription before authorize is sent: a pool may send its first job ahead of
   * the authorize answer, in the same read, and a client that takes jobs then needs the extranonce.
   */
  onSubscribed?(subscription: Subscription): void;
}

export interface HandshakeResult extends Subscription {
  /** The granted mask (0: refused); absent when not asked for. */
  versionMask?: number;
}

/** The pool refused the worker's credentials: retrying the same ones will not help. */
export class WorkerRefusedError extends Error {
  override readonly name = 'WorkerRefusedError';
}

/** Throws WorkerRefusedError when the worker is refused, ProtocolError on a malformed subscribe answer, else what the request threw. */
export async function stratumHandshake(client: { request(method: string, params: unknown[]): Promise<unknown> }, o: HandshakeOptions): Promise<HandshakeResult> {
  let versionMask: number | undefined;
  if (o.versionMask !== undefined) {
    versionMask = 0;
    try {
      const result = (await client.request('mining.configure', [['version-rolling'], { 'version-rolling.mask': u32ToHex(o.versionMask) }])) as Record<string, unknown> | null;
      if (result?.['version-rolling'] === true) versionMask = (hexToU32(result['version-rolling.mask'], 'version-rolling.mask') & o.versionMask) >>> 0;
    } catch (err) {
      if (!(err instanceof StratumRpcError)) throw err; // a pool without BIP310 answers with an error: no rolling
    }
  }
  const subscribed = await client.request('mining.subscribe', o.subscriptionId ? [o.userAgent, o.subscriptionId] : [o.userAgent]);
  let subscription: Subscription;
  try {
    subscription = parseSubscribeResult(subscribed);
  } catch (err) {
    if (err instanceof ProtocolError) throw new ProtocolError(err.field, `${err.detail} (from ${o.pool})`);
    throw err;
  }
  o.onSubscribed?.(subscription);
  let ok: unknown;
  try {
    ok = await client.request('mining.authorize', [o.user, o.password]);
  } catch (err) {
    if (err instanceof StratumRpcError) throw new WorkerRefusedError(`${o.pool} refused worker "${o.user}": ${err.message}`);
    throw err;
  }
  if (ok !== true) throw new WorkerRefusedError(`${o.pool} refused worker "${o.user}": authorize answered ${JSON.stringify(ok)}`);
  return { ...subscription, ...(versionMask !== undefined ? { versionMask } : {}) };
}
