import { ProtocolError } from '../errors.js';
import { hexToBytes } from '../hex.js';

/**
 * What a pool's answer to mining.subscribe (and a later mining.set_extranonce) gives a client.
 * Pools answer [subscriptions, extranonce1, extranonce2_size] with `subscriptions` in several
 * shapes: a list of [method, id] pairs (slush, ckpool, public-pool, this gateway), one bare pair
 * (some older pools), or nothing usable (null, an empty list).
 */

export interface Extranonce {
  extranonce1: Uint8Array;
  /** Bytes the client rolls; 1..32 (a pool giving 0 leaves nothing to roll, more is nonsense). */
  extranonce2Size: number;
}

export interface Subscription extends Extranonce {
  /**
   * The id a client presents on its next subscribe so that a pool that supports it resumes the
   * session (and its extranonce1): mining.notify's subscription id, else the first one given.
   */
  subscriptionId?: string;
}

export const MAX_EXTRANONCE2_BYTES = 32;

/** Checks the (extranonce1, extranonce2_size) pair of a subscribe answer or a set_extranonce. Throws ProtocolError. */
export function parseExtranonce(extranonce1Hex: unknown, extranonce2Size: unknown): Extranonce {
  const extranonce1 = hexToBytes(extranonce1Hex, 'extranonce1');
  if (typeof extranonce2Size !== 'number' || !Number.isInteger(extranonce2Size) || extranonce2Size < 1 || extranonce2Size > MAX_EXTRANONCE2_BYTES) {
    throw new ProtocolError('extranonce2_size', `must be an integer 1..${MAX_EXTRANONCE2_BYTES}, got ${JSON.stringify(extranonce2Size)}`);
  }
  return { extranonce1, extranonce2Size };
}

/** Reads a mining.subscribe result. Throws ProtocolError when it is not one. */
export function parseSubscribeResult(result: unknown): Subscription {
  if (!Array.isArray(result)) throw new ProtocolError('subscribe result', `expected [subscriptions, extranonce1, extranonce2_size], got ${JSON.stringify(result)}`);
  const [subscriptions, extranonce1Hex, extranonce2Size] = result as unknown[];
  const subscriptionId = pickSubscriptionId(subscriptions);
  return { ...parseExtranonce(extranonce1Hex, extranonce2Size), ...(subscriptionId !== undefined ? { subscriptionId } : {}) };
}

function pickSubscriptionId(subscriptions: unknown): string | undefined {
  if (!Array.isArray(subscriptions)) return undefined;
  const pairs = isPair(subscriptions) ? [subscriptions] : subscriptions.filter(isPair);
  return (pairs.find(([method]) => method === 'mining.notify') ?? pairs[0])?.[1];
}

/** A [method, id] subscription with a string id (ids are opaque; only strings are echoed back). */
function isPair(value: unknown): value is [string, string] {
  return Array.isArray(value) && typeof value[0] === 'string' && typeof value[1] === 'string';
}
