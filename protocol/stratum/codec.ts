import { StratumCode, StratumError } from './errors.js';

/**
 * Stratum V1 framing: JSON-RPC 1.0-style requests, responses and notifications, one message per
 * text frame or line. `parseMessage` reads what a server receives (strictly: a bad request gets a
 * stated refusal), `parseServerMessage` what a client receives (leniently: pools differ).
 */

/** Ids are echoed unchanged: numbers, strings and null all occur in the wild. */
export type RpcId = number | string | null;

export interface RpcRequest {
  id: RpcId;
  method: string;
  params: unknown[];
}

export type ParsedMessage =
  | { kind: 'request'; request: RpcRequest }
  /** A response to something the server sent (clients rarely answer, but some do): ignored. */
  | { kind: 'response' }
  | { kind: 'invalid'; id: RpcId; error: StratumError };

/** Parses one message a server received. Never throws. */
export function parseMessage(text: string): ParsedMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'invalid', id: null, error: new StratumError(StratumCode.OTHER, 'malformed JSON') };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { kind: 'invalid', id: null, error: new StratumError(StratumCode.OTHER, 'expected a JSON-RPC object') };
  }
  const message = value as Record<string, unknown>;
  const id = message.id;
  const validId: RpcId = typeof id === 'number' || typeof id === 'string' || id === null ? id : null;
  if (id !== undefined && validId !== id) {
    return { kind: 'invalid', id: null, error: new StratumError(StratumCode.OTHER, 'id must be a number, a string or null') };
  }
  if (message.method === undefined && ('result' in message || 'error' in message)) return { kind: 'response' };
  if (typeof message.method !== 'string' || message.method.length === 0 || message.method.length > 64) {
    return { kind: 'invalid', id: validId ?? null, error: new StratumError(StratumCode.OTHER, 'method must be a non-empty string') };
  }
  const params = message.params ?? [];
  if (!Array.isArray(params)) {
    return { kind: 'invalid', id: validId ?? null, error: new StratumError(StratumCode.OTHER, 'params must be an array') };
  }
  return { kind: 'request', request: { id: validId ?? null, method: message.method, params } };
}

export type ServerMessage =
  /** A notification (no id) or a request the client should answer (client.get_version). */
  | { kind: 'request'; id: RpcId; method: string; params: unknown[] }
  | { kind: 'response'; id: unknown; result: unknown; error: unknown }
  /** Not a JSON-RPC message at all: the peer is broken or not a Stratum server. */
  | { kind: 'invalid'; reason: string };

/**
 * Parses one message a client received. Never throws. Lenient where pools differ: params that are
 * not an array read as none, an odd id is kept for the caller to match (or not).
 */
export function parseServerMessage(text: string): ServerMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'invalid', reason: 'a line that is not JSON' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { kind: 'invalid', reason: 'a message that is not a JSON object' };
  const message = value as Record<string, unknown>;
  if (typeof message.method === 'string') {
    const id = message.id;
    const rpcId: RpcId = typeof id === 'number' || typeof id === 'string' ? id : null;
    return { kind: 'request', id: rpcId, method: message.method, params: Array.isArray(message.params) ? message.params : [] };
  }
  return { kind: 'response', id: message.id, result: message.result, error: message.error };
}

export function encodeRequest(id: RpcId, method: string, params: unknown[]): string {
  return JSON.stringify({ id, method, params });
}

export function encodeResult(id: RpcId, result: unknown): string {
  return JSON.stringify({ id, result, error: null });
}

/**
 * A refusal. A refused `mining.submit` answers `"result": false` beside the error, as ckpool and
 * most pools do: some proxies (ckpool's) recognise a rejected share only by that false, and every
 * client we know reads the error first. Other refusals answer `"result": null`.
 */
export function encodeError(id: RpcId, error: StratumError, method?: string): string {
  return JSON.stringify({ id, result: method === 'mining.submit' ? false : null, error: error.toWire() });
}

export function encodeNotification(method: string, params: unknown[]): string {
  return JSON.stringify({ id: null, method, params });
}
