import { encodeRequest, encodeResult, parseServerMessage } from './codec.js';
import { StratumConnectionError, StratumRpcError, StratumTimeoutError, stratumErrorText } from './errors.js';

/**
 * The client side of one Stratum V1 connection, without the connection: requests get ids and a
 * timeout and are matched to their responses, notifications go to the handlers, and
 * client.get_version is answered. A transport (a WebSocket in the browser, TCP in the gateway and
 * the CLI) hands it each received message and sends what it gives; `close` ends it once, for a
 * stated reason, whoever noticed first.
 */

/**
 * Timers as the host provides them (setTimeout / clearTimeout in browsers and Node), injected so
 * tests can drive time. Called as methods of this object: wrap a browser's, which throw "Illegal
 * invocation" when called on anything but the window.
 */
export interface Timers {
  setTimeout(callback: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

export type NotificationHandler = (method: string, params: unknown[]) => void;

/** How long a request waits for its answer unless told otherwise. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 15_000;

export interface StratumClientCoreOptions {
  /** Sends one message: JSON text without a line break (the transport frames it). */
  send(message: string): void;
  timers: Timers;
  /** A request unanswered this long rejects with StratumTimeoutError; the connection stays open. */
  requestTimeoutMs?: number;
  /** Names the pool in error messages (HOST:PORT, a URL). */
  peer: string;
  /** Answered to client.get_version. */
  userAgent: string;
}

interface Pending {
  resolve(result: unknown): void;
  reject(err: Error): void;
  timer: unknown;
}

export class StratumClientCore {
  private readonly pending = new Map<number, Pending>();
  private readonly notificationHandlers: NotificationHandler[] = [];
  private readonly closeHandlers: ((reason: string) => void)[] = [];
  private readonly requestTimeoutMs: number;
  private nextId = 1;
  private isClosed = false;

  constructor(private readonly options: StratumClientCoreOptions) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Server-to-client messages (`mining.notify`, `mining.set_difficulty`, `client.reconnect`, ...). */
  onNotification(handler: NotificationHandler): void {
    this.notificationHandlers.push(handler);
  }

  /** Called once, when the connection ends, with why. */
  onClose(handler: (reason: string) => void): void {
    this.closeHandlers.push(handler);
  }

  /** Resolves with the result; rejects with StratumRpcError (refused), StratumTimeoutError or StratumConnectionError (closed). */
  request(method: string, params: unknown[]): Promise<unknown> {
    if (this.isClosed) return Promise.reject(new StratumConnectionError(`connection to ${this.options.peer} is closed`));
    const id = this.nextId++;
    const { timers } = this.options;
    return new Promise((resolve, reject) => {
      const timer = timers.setTimeout(() => {
        this.pending.delete(id);
        reject(new StratumTimeoutError(`${method} to ${this.options.peer}: no answer in ${this.requestTimeoutMs} ms`));
      }, this.requestTimeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.options.send(encodeRequest(id, method, params));
    });
  }

  /** One received message (a text frame or a line). A message that is not JSON-RPC at all closes the connection. */
  receive(text: string): void {
    if (this.isClosed) return;
    const message = parseServerMessage(text);
    if (message.kind === 'invalid') return this.close(`${this.options.peer} sent ${message.reason}`);
    if (message.kind === 'response') {
      const p = typeof message.id === 'number' ? this.pending.get(message.id) : undefined;
      if (!p) return; // an answer to nothing we wait for (late, after its timeout)
      this.pending.delete(message.id as number);
      this.options.timers.clearTimeout(p.timer);
      if (message.error !== null && message.error !== undefined) {
        const { message: text, code } = stratumErrorText(message.error);
        p.reject(new StratumRpcError(text, code));
      } else {
        p.resolve(message.result);
      }
      return;
    }
    // The one server-to-client request that wants an answer.
    if (message.method === 'client.get_version' && message.id !== null) return this.options.send(encodeResult(message.id, this.options.userAgent));
    for (const handler of this.notificationHandlers) {
      try {
        handler(message.method, message.params);
      } catch (err) {
        // A handler bug must not escape the transport's receive event (and kill a Node process).
        return this.close(`handling ${message.method} failed: ${(err as Error).message}`);
      }
    }
  }

  /** Ends the connection once: fails every pending request, then tells the close handlers. */
  close(reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const p of this.pending.values()) {
      this.options.timers.clearTimeout(p.timer);
      p.reject(new StratumConnectionError(`connection to ${this.options.peer} closed: ${reason}`));
    }
    this.pending.clear();
    for (const handler of this.closeHandlers) handler(reason);
  }
}
