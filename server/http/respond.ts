import type { IncomingMessage, ServerResponse } from 'node:http';

/** A request the client got wrong: answered with `status` and `{ error: message }`, never a 500. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Extra response headers (Retry-After of a 429 or 503). */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** JSON with bigints written as decimal strings (on-chain amounts exceed 2^53). */
export function toJson(body: unknown): string {
  return JSON.stringify(body, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value));
}

export function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = toJson(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    // Public data and signed requests: partner pages, the widget and a dev server on another
    // origin may call the API. Nothing here rides on cookies, so * gives nothing away.
    'access-control-allow-origin': '*',
    ...headers,
  });
  res.end(text);
}

/** Largest JSON body the API accepts: a signed vote or claim is well under 2 KiB. */
export const MAX_BODY_BYTES = 16 * 1024;

/**
 * Reads a JSON object body. Refuses a wrong content type (415), a body over `maxBytes` (413, without
 * reading the rest) and text that is not a JSON object (400), each with a message that says so.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<Record<string, unknown>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new HttpError(415, `expected content-type application/json, got ${type || 'none'}`);
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > maxBytes) throw new HttpError(413, `body of ${declared} bytes is over the ${maxBytes}-byte limit`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new HttpError(413, `body is over the ${maxBytes}-byte limit`);
    chunks.push(chunk);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `body is not valid JSON: ${(err as Error).message.slice(0, 120)}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new HttpError(400, 'body must be a JSON object');
  return parsed as Record<string, unknown>;
}
