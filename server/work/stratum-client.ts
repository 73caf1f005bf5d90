import net from 'node:net';
import { LineFramer } from '../../protocol/line-framer.js';
import { StratumClientCore, type NotificationHandler } from '../../protocol/stratum/client-core.js';
import { StratumConnectionError } from '../../protocol/stratum/errors.js';

/**
 * The gateway's Stratum V1 client transport: newline-delimited JSON-RPC over TCP around the
 * protocol's client core (ids, timeouts, dispatch), a cap on line length (a broken or hostile
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

export interface StratumClient {
  /** Rejects with StratumRpcError (refused), StratumTimeoutError or StratumConnectionError (closed). */
  request(method: string, params: unknown[]): Promise<unknown>;
  /** Server-to-client messages (`mining.notify`, `mining.set_difficulty`, `client.reconnect`, ...). */
  onNotification(handler: NotificationHandler): void;
  /** Called once when the connection ends, with why. */
  onClose(handler: (reason: string) => void): void;
  close(): void;
  readonly closed: boolean;
}

export function connectStratum(options: StratumClientOptions): Promise<StratumClient> {
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const maxLineBytes = options.maxLineBytes ?? 512 * 1024;
  const where = `${options.host}:${options.port}`;

  return new Promise((resolveConnect, rejectConnect) => {
    const socket = net.connect({ host: options.host, port: options.port });
    const closeHandlers: ((reason: string) => void)[] = [];
    const framer = new LineFramer(maxLineBytes);
    let connected = false;
    const core = new StratumClientCore({
      send: (message) => void (socket.destroyed || socket.write(message + '\n')),
      timers: { setTimeout, clearTimeout },
      ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
      peer: where,
      userAgent: options.userAgent ?? 'computing-power-dao',
    });
    const connectTimer = setTimeout(() => core.close(`connecting to ${where} timed out after ${connectTimeoutMs} ms`), connectTimeoutMs);

    // Every end, whoever notices it (the socket, the core, us), comes through here once.
    core.onClose((reason) => {
      clearTimeout(connectTimer);
      socket.destroy();
      if (!connected) rejectConnect(new StratumConnectionError(`cannot connect to upstream ${where}: ${reason}`));
      else for (const h of closeHandlers) h(reason);
    });

    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.on('connect', () => {
      clearTimeout(connectTimer);
      connected = true;
      socket.setKeepAlive(true, 30_000);
      if (options.idleTimeoutMs) socket.setTimeout(options.idleTimeoutMs);
      resolveConnect(client);
    });
    socket.on('timeout', () => core.close(`no data from upstream for ${options.idleTimeoutMs} ms`));
    socket.on('data', (chunk: string) => {
      const { lines, tooLong } = framer.push(chunk);
      for (const line of lines) core.receive(line);
      if (tooLong) core.close(`upstream line longer than ${maxLineBytes} bytes`);
    });
    socket.on('error', (err: NodeJS.ErrnoException) => core.close(err.code ?? err.message));
    socket.on('close', () => core.close('closed by upstream'));

    const client: StratumClient = {
      request: (method, params) => core.request(method, params),
      onNotification: (handler) => core.onNotification(handler),
      onClose: (handler) => closeHandlers.push(handler),
      close: () => core.close('closed by us'),
      get closed() {
        return core.closed;
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
