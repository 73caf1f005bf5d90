/**
 * Stratum V1 errors, both ways: the codes a server refuses with, and what a client makes of a
 * refusal, a lost connection or a request that got no answer.
 */

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

/** A refusal for a server to send back: [code, message, traceback]. */
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

/** The server answered a client's request with an error (Stratum's [code, message, traceback] or an object). */
export class StratumRpcError extends Error {
  override readonly name = 'StratumRpcError';
  constructor(
    message: string,
    readonly code?: number,
  ) {
    super(message);
  }
}

/** The connection failed, closed, or a request got no answer in time. */
export class StratumConnectionError extends Error {
  override readonly name: string = 'StratumConnectionError';
}

/** A request got no answer in time; the connection itself may still be open (a black hole). */
export class StratumTimeoutError extends StratumConnectionError {
  override readonly name = 'StratumTimeoutError';
}

/** The text (and code, when there is one) of a Stratum error in any of the shapes pools use. */
export function stratumErrorText(error: unknown): { message: string; code?: number } {
  if (Array.isArray(error)) {
    const [code, message] = error as unknown[];
    return { message: typeof message === 'string' ? message : JSON.stringify(error), ...(typeof code === 'number' ? { code } : {}) };
  }
  if (error && typeof error === 'object') {
    const { code, message } = error as { code?: unknown; message?: unknown };
    return { message: typeof message === 'string' ? message : JSON.stringify(error), ...(typeof code === 'number' ? { code } : {}) };
  }
  return { message: String(error) };
}
