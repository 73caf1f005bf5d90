import net from 'node:net';
import { hexToBytes, hexToU32, u32ToHex } from '../../protocol/hex.js';
import { LineFramer } from '../../protocol/line-framer.js';

/**
 * A small Stratum V1 client transport: newline-delimited JSON-RPC over TCP, requests correlated
 * with responses by id, a timeout on every request, a cap on line length (a broken or hostile
 * upstream must not make us buffer without bound), and an idle timeout (a pool that stops
 * talking is as good as gone; pools send a job at least every minute or two).
 */

export interface StratumClientOptions {
  host: string;
  port: number;
  connectTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Close the connection when the upstream sends nothing for this long; 0 disables. */
  idleTimeoutMs?: number;
  maxLineBytes?: number;
  /** Answered to `client.get_version`. */
  userAgent?: string;
}

/** The upstream answered a request with an error (Stratum's [code, message, traceback] or an object). */
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
  override readonly name = 'StratumConnectionError';
}

export type NotificationHandler = (method: string, params: unknown[]) => void;

export interface StratumClient {
  request(method: string, params: unknown[]): Promise<unknown>;
  /** Server-to-client messages (`mining.notify`, `mining.set_difficulty`, `client.reconnect`, ...). */
  onNotification(handler: NotificationHandler): void;
  /** Called once when the connection ends, with why. */
  onClose(handler: (reason: string) => void): void;
  close(): void;
  readonly closed: boolean;
}

/** The text of a Stratum error in any of the shapes pools use. */
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

interface Pending {
  resolve(result: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export function connectStratum(options: StratumClientOptions): Promise<StratumClient> {
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const requestTimeoutMs = options.requestTimeoutMs ?? 15_000;
  const maxLineBytes = options.maxLineBytes ?? 512 * 1024;
  const where = `${options.host}:${options.port}`;

  return new Promise((resolveConnect, rejectConnect) => {
    const socket = net.connect({ host: options.host, port: options.port });
    const pending = new Map<number, Pending>();
    const notificationHandlers: NotificationHandler[] = [];
    const closeHandlers: ((reason: string) => void)[] = [];
    let nextId = 1;
    const framer = new LineFramer(maxLineBytes);
    let closed = false;
    let connected = false;

    const connectTimer = setTimeout(() => finish(`connecting to ${where} timed out after ${connectTimeoutMs} ms`), connectTimeoutMs);

    /** Ends the connection once: fails every pending request and tells the close handlers. */
    function finish(reason: string): void {
      if (closed) return;
      closed = true;
      clearTimeout(connectTimer);
      socket.destroy();
      for (const p of pending.values()) {
        clearTimeout(p.timer);
        p.reject(new StratumConnectionError(`connection to ${where} closed: ${reason}`));
      }
      pending.clear();
      if (!connected) rejectConnect(new StratumConnectionError(`cannot connect to upstream ${where}: ${reason}`));
      else for (const h of closeHandlers) h(reason);
    }

    function send(message: object): void {
      if (!closed) socket.write(JSON.stringify(message) + '\n');
    }

    function handleLine(line: string): void {
      let message: { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: unknown };
      try {
        message = JSON.parse(line) as typeof message;
      } catch {
        finish('upstream sent a line that is not JSON');
        return;
      }
      if (!message || typeof message !== 'object') return;
      if (typeof message.method === 'string') {
        const params = Array.isArray(message.params) ? message.params : [];
        // The one server-to-client request that wants an answer.
        if (message.method === 'client.get_version' && message.id !== null && message.id !== undefined) {
          send({ id: message.id, result: options.userAgent ?? 'computing-power-dao', error: null });
          return;
        }
        for (const h of notificationHandlers) {
          try {
            h(message.method, params);
          } catch (err) {
            // A handler bug must not escape the socket's data event and kill the process.
            finish(`handling ${message.method} failed: ${(err as Error).message}`);
          }
        }
        return;
      }
      const p = typeof message.id === 'number' ? pending.get(message.id) : undefined;
      if (!p) return; // an answer to nothing we are waiting for (late, after a timeout)
      pending.delete(message.id as number);
      clearTimeout(p.timer);
      if (message.error !== null && message.error !== undefined) {
        const { message: text, code } = stratumErrorText(message.error);
        p.reject(new StratumRpcError(text, code));
      } else {
        p.resolve(message.result);
      }
    }

    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.on('connect', () => {
      clearTimeout(connectTimer);
      connected = true;
      socket.setKeepAlive(true, 30_000);
      if (options.idleTimeoutMs) socket.setTimeout(options.idleTimeoutMs);
      resolveConnect(client);
    });
    socket.on('timeout', () => finish(`no data from upstream for ${options.idleTimeoutMs} ms`));
    socket.on('data', (chunk: string) => {
      const { lines, tooLong } = framer.push(chunk);
      for (const line of lines) {
        if (closed) return;
        handleLine(line);
      }
      if (tooLong) finish(`upstream line longer than ${maxLineBytes} bytes`);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
    socket.on('close', () => finish('closed by upstream'));

    const client: StratumClient = {
      request(method, params) {
        if (closed) return Promise.reject(new StratumConnectionError(`connection to ${where} is closed`));
        const id = nextId++;
        return new Promise((resolve, reject) => {
          const timer = setTimeout(() => {
            pending.delete(id);
            reject(new StratumConnectionError(`${method} to ${where}: no answer in ${requestTimeoutMs} ms`));
          }, requestTimeoutMs);
          pending.set(id, { resolve, reject, timer });
          send({ id, method, params });
        });
      },
      onNotification(handler) {
        notificationHandlers.push(handler);
      },
      onClose(handler) {
        closeHandlers.push(handler);
      },
      close() {
        finish('closed by us');
      },
      get closed() {
        return closed;
      },
    };
  });
}

export interface StratumUrl {
  host: string;
  port: number;
  user: string;
  password: string;
}

export function parseStratumUrl(url: string): StratumUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('upstream url is not a valid URL (expected stratum+tcp://USER:PASS@HOST:PORT)');
  }
  if (parsed.protocol !== 'stratum+tcp:') throw new Error(`upstream url must start with stratum+tcp://, got ${parsed.protocol}//`);
  const port = Number(parsed.port);
  if (!parsed.hostname || !Number.isInteger(port) || port < 1) throw new Error('upstream url needs a host and a port (stratum+tcp://USER:PASS@HOST:PORT)');
  const user = decodeURIComponent(parsed.username);
  if (!user) throw new Error('upstream url needs a worker name (stratum+tcp://USER:PASS@HOST:PORT)');
  // IPv6 literals come back bracketed from URL; net.connect wants them bare.
  return { host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port, user, password: decodeURIComponent(parsed.password) };
}

/** Exponential backoff with full jitter: uniform in [0, min(max, initial * 2^attempt)). */
export function backoffDelayMs(attempt: number, initialMs: number, maxMs: number, random: () => number = Math.random): number {
  return Math.floor(random() * Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30)));
}

export interface HandshakeOptions {
  /** HOST:PORT, for error messages. */
  where: string;
  userAgent: string;
  user: string;
  password: string;
  /** The previous session's id, so that a pool that supports it resumes our extranonce1. */
  sessionId?: string;
  /** Ask for BIP310 version rolling with this mask; absent: do not configure. */
  versionMask?: number;
}

export interface UpstreamSession {
  extranonce1: Uint8Array;
  extranonce2Size: number;
  sessionId?: string;
  /** The granted mask (0: refused); absent when not asked for. */
  versionMask?: number;
}

/**
 * The client side of a Stratum V1 handshake: mining.configure (first, as BIP310 asks), then
 * mining.subscribe, then mining.authorize. Throws a clear error when the worker is refused.
 */
export async function handshake(c: StratumClient, o: HandshakeOptions): Promise<UpstreamSession> {
  let versionMask: number | undefined;
  if (o.versionMask !== undefined) {
    versionMask = 0;
    try {
      const result = (await c.request('mining.configure', [['version-rolling'], { 'version-rolling.mask': u32ToHex(o.versionMask) }])) as Record<string, unknown> | null;
      if (result?.['version-rolling'] === true) versionMask = (hexToU32(result['version-rolling.mask'], 'version-rolling.mask') & o.versionMask) >>> 0;
    } catch (err) {
      if (!(err instanceof StratumRpcError)) throw err; // a pool without BIP310 answers with an error: no rolling
    }
  }
  const subscribed = await c.request('mining.subscribe', o.sessionId ? [o.userAgent, o.sessionId] : [o.userAgent]);
  const [subscriptions, en1, en2Size] = (Array.isArray(subscribed) ? subscribed : []) as unknown[];
  const extranonce1 = hexToBytes(en1, 'subscribe extranonce1');
  if (typeof en2Size !== 'number' || !Number.isInteger(en2Size) || en2Size < 1 || en2Size > 32) {
    throw new Error(`upstream pool ${o.where} gave an invalid extranonce2_size ${JSON.stringify(en2Size)}`);
  }
  // [[["mining.notify", "<subscription id>"], ...], en1, size]: the notify subscription id is the session id.
  const notifySub = Array.isArray(subscriptions) ? (subscriptions as unknown[]).find((s) => Array.isArray(s) && s[0] === 'mining.notify') : undefined;
  const sessionId = Array.isArray(notifySub) && typeof notifySub[1] === 'string' ? notifySub[1] : undefined;
  let ok: unknown;
  try {
    ok = await c.request('mining.authorize', [o.user, o.password]);
  } catch (err) {
    if (err instanceof StratumRpcError) throw new Error(`upstream pool ${o.where} refused worker "${o.user}": ${err.message}`);
    throw err;
  }
  if (ok !== true) throw new Error(`upstream pool ${o.where} refused worker "${o.user}": authorize answered ${JSON.stringify(ok)}`);
  return { extranonce1, extranonce2Size: en2Size, ...(sessionId ? { sessionId } : {}), ...(versionMask !== undefined ? { versionMask } : {}) };
}
