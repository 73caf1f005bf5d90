/**
 * A minimal JSON-RPC client for bitcoind (getblocktemplate, submitblock). Global fetch, HTTP basic
 * auth taken from the URL `http://USER:PASS@HOST:PORT`, a timeout on every call. Errors name the
 * endpoint without the credentials: the password never reaches a message, a label or a log.
 */

export type BitcoinRpcErrorKind =
  /** HTTP 401: wrong rpcuser / rpcpassword (bitcoind answers with an empty body). */
  | 'unauthorized'
  /** HTTP 403: the node refuses this address (rpcallowip). */
  | 'forbidden'
  /** Nothing listens there, or the host does not resolve. */
  | 'unreachable'
  | 'timeout'
  /** The node answered with a JSON-RPC error object. */
  | 'rpc'
  /** Any other HTTP status or an unreadable body. */
  | 'http';

export class BitcoinRpcError extends Error {
  override readonly name = 'BitcoinRpcError';
  constructor(
    readonly kind: BitcoinRpcErrorKind,
    message: string,
    /** The JSON-RPC error code, for kind 'rpc' (e.g. -10 "node is downloading blocks"). */
    readonly rpcCode?: number,
  ) {
    super(message);
  }
}

export interface BitcoinRpcOptions {
  url: string;
  /** Per call, default 10 s: a template of a full block is a few MB of JSON. */
  timeoutMs?: number;
}

export interface BitcoinRpc {
  /** `http://HOST:PORT`, safe to show. */
  readonly endpoint: string;
  call<T = unknown>(method: string, params?: unknown[]): Promise<T>;
}

export interface RpcUrl {
  /** The URL without credentials (fetch refuses URLs that carry them). */
  href: string;
  /** HOST:PORT, for labels. */
  hostPort: string;
  authorization?: string;
}

/** Splits `http://USER:PASS@HOST:PORT/path` into a credential-free URL and a basic-auth header. */
export function parseRpcUrl(url: string): RpcUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Do not echo the text: it may hold the password.
    throw new BitcoinRpcError('http', 'node RPC url is not a valid URL (expected http://USER:PASS@HOST:PORT)');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new BitcoinRpcError('http', `node RPC url must be http:// or https://, got ${parsed.protocol}`);
  }
  const user = decodeURIComponent(parsed.username);
  const pass = decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  const rpcUrl: RpcUrl = { href: parsed.href, hostPort: parsed.host };
  if (user || pass) rpcUrl.authorization = 'Basic ' + Buffer.from(`${user}:${pass}`, 'utf8').toString('base64');
  return rpcUrl;
}

function networkErrorCode(err: unknown): string | undefined {
  // undici wraps the socket error: TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }).
  const cause = (err as { cause?: { code?: unknown; errors?: { code?: unknown }[] } }).cause;
  if (typeof cause?.code === 'string') return cause.code;
  // Happy-eyeballs failures arrive as an AggregateError of per-address errors.
  const first = cause?.errors?.[0]?.code;
  return typeof first === 'string' ? first : undefined;
}

export function createBitcoinRpc(options: BitcoinRpcOptions): BitcoinRpc {
  const target = parseRpcUrl(options.url);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const endpoint = `${new URL(target.href).protocol}//${target.hostPort}`;
  let nextId = 1;

  async function call<T>(method: string, params: unknown[] = []): Promise<T> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (target.authorization) headers.authorization = target.authorization;
    const id = nextId++;
    let response: Response;
    try {
      response = await fetch(target.href, {
        method: 'POST',
        headers,
        body: JSON.stringify({ jsonrpc: '1.0', id, method, params }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const name = (err as { name?: unknown }).name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new BitcoinRpcError('timeout', `node RPC ${endpoint}: ${method} timed out after ${timeoutMs} ms`);
      }
      const code = networkErrorCode(err);
      if (code === 'ECONNREFUSED') {
        throw new BitcoinRpcError('unreachable', `node RPC ${endpoint}: connection refused (is bitcoind running with server=1 and rpcport ${new URL(target.href).port || 'default'}?)`);
      }
      if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'ECONNRESET') {
        throw new BitcoinRpcError('unreachable', `node RPC ${endpoint}: ${code}`);
      }
      throw new BitcoinRpcError('unreachable', `node RPC ${endpoint}: ${code ?? (err as Error).message}`);
    }
    if (response.status === 401) {
      await response.body?.cancel();
      throw new BitcoinRpcError('unauthorized', `node RPC ${endpoint}: HTTP 401, wrong RPC user or password`);
    }
    if (response.status === 403) {
      await response.body?.cancel();
      throw new BitcoinRpcError('forbidden', `node RPC ${endpoint}: HTTP 403, this address is not allowed (rpcallowip)`);
    }
    // bitcoind answers JSON-RPC errors with HTTP 500 / 404 and a JSON body, so read it first.
    let text: string;
    let body: { result?: unknown; error?: { code?: unknown; message?: unknown } | null; id?: unknown } | undefined;
    try {
      text = await response.text();
    } catch (err) {
      const name = (err as { name?: unknown }).name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        throw new BitcoinRpcError('timeout', `node RPC ${endpoint}: ${method} timed out after ${timeoutMs} ms`);
      }
      throw new BitcoinRpcError('http', `node RPC ${endpoint}: could not read the response (${(err as Error).message})`);
    }
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      body = undefined;
    }
    if (body && typeof body === 'object' && body.error) {
      const code = typeof body.error.code === 'number' ? body.error.code : undefined;
      const message = typeof body.error.message === 'string' ? body.error.message : JSON.stringify(body.error);
      throw new BitcoinRpcError('rpc', `node RPC ${endpoint}: ${method} failed: ${message}${code !== undefined ? ` (code ${code})` : ''}`, code);
    }
    if (!response.ok || !body || typeof body !== 'object' || !('result' in body)) {
      throw new BitcoinRpcError('http', `node RPC ${endpoint}: ${method} got HTTP ${response.status} without a JSON-RPC result`);
    }
    return body.result as T;
  }

  return { endpoint, call };
}
