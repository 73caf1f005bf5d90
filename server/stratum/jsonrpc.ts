// Stratum V1 framing: JSON-RPC 1.0-style requests, responses and notifications. Pure functions.

/** Ids are echoed unchanged: numbers, strings and null all occur in the wild. */
export type RpcId = number | string | null;

export interface RpcRequest {
  id: RpcId;
  method: string;
  params: unknown[];
}

/** The error codes Stratum pools use (slush's spec, ckpool, public-pool). */
export const StratumCode = {
  OTHER: 20,
  JOB_NOT_FOUND: 21,
  DUPLICATE: 22,
  LOW_DIFFICULTY: 23,
  UNAUTHORIZED: 24,
  NOT_SUBSCRIBED: 25,
} as const;
export type StratumCode = (typeof StratumCode)[keyof typeof StratumCode];

/** A refusal to send back: [code, message, traceback]. */
export class StratumError extends Error {
  constructor(
    readonly code: StratumCode,
    message: string,
  ) {
    super(message);
  }
  toWire(): [number, string, null] {
    return [this.code, this.message, null];
  }
}

export type ParsedMessage =
  | { kind: 'request'; request: RpcRequest }
  /** A response to something the server sent (clients rarely answer, but some do): ignored. */
  | { kind: 'response' }
  | { kind: 'invalid'; id: RpcId; error: StratumError };

/** Parses one message (a text frame or one line). Never throws. */
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

export function encodeResult(id: RpcId, result: unknown): string {
  return JSON.stringify({ id, result, error: null });
}

export function encodeError(id: RpcId, error: StratumError): string {
  return JSON.stringify({ id, result: null, error: error.toWire() });
}

export function encodeNotification(method: string, params: unknown[]): string {
  return JSON.stringify({ id: null, method, params });
}
