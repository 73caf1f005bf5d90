import { Worker } from 'node:worker_threads';
import type { ItemOutcome } from './group-commit.js';
import type { LedgerOp } from './sqlite-batch.js';
import { fromWire, outcomesFromWire, type FromWriter, type ToWriter, type WriterData } from './sqlite-writer-protocol.js';

/**
 * The main thread's handle on the ledger's writer thread (sqlite-writer.ts): sends it a batch,
 * resolves with the outcomes once its COMMIT returned.
 *
 * A thread that dies (an uncaught error, an out-of-memory abort) rejects whatever it had in flight
 * with an error saying so: those records may or may not have committed, and refusing them is the
 * safe side (a miner resends a refused share; an acknowledged share of unknown fate could be lost).
 * The next request starts a fresh thread, so one crash does not refuse every later share.
 */

/**
 * From the build the worker is sqlite-writer.js beside this file. From source (the tests run
 * TypeScript through tsx) it is TypeScript too, and Node 20 gives workers no loader of their own:
 * it registers tsx first (as cli/thread-pool-engine.ts does).
 */
function startWorker(data: WriterData): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./sqlite-writer.js', import.meta.url), { workerData: data });
  const source = new URL('./sqlite-writer.ts', import.meta.url).href;
  return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); });`, {
    eval: true,
    workerData: data,
  });
}

type Reply = Extract<FromWriter, { id: number }>;

/** One thread's life, from start to exit. */
interface Running {
  worker: Worker;
  /** Settles when the thread has opened its connection, or could not. */
  ready: Promise<void>;
  exited: Promise<void>;
  pending: Map<number, { resolve(reply: Reply): void; reject(error: Error): void }>;
  /** Requests between their start and their reply: while any, the thread keeps the process alive. */
  outstanding: number;
  /** False from its 'exit' on: a message posted then would never be answered. */
  alive: boolean;
}

export class SqliteWriterThread {
  private running: Running | null;
  private nextId = 1;
  private closed = false;

  /**
   * Starts the thread at once, so that it opens its connection while the gateway starts.
   * `onStopped` hears of a thread that ended without being asked to (for the logs).
   */
  constructor(
    private readonly data: WriterData,
    private readonly onStopped?: (error: Error) => void,
  ) {
    this.running = this.start();
  }

  /** Resolves once the current thread has opened its connection; rejects with why it could not. */
  ready(): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`ledger writer thread for ${this.data.file} is closed`));
    return (this.running ??= this.start()).ready;
  }

  /** Writes one batch in one transaction: throws if it failed as a whole, else one outcome per op. */
  async commit(ops: readonly LedgerOp[]): Promise<ItemOutcome<boolean>[]> {
    const reply = await this.request((id) => ({ type: 'batch', id, ops }));
    if (reply.type === 'failed') throw fromWire(reply.error);
    if (reply.type !== 'committed') throw new Error(`ledger writer thread answered a batch with ${reply.type}`);
    return outcomesFromWire(reply.results);
  }

  /** Runs a PRAGMA on the writer's connection (settings such as max_page_count are per connection). */
  async pragma(source: string): Promise<unknown> {
    const reply = await this.request((id) => ({ type: 'pragma', id, source }));
    if (reply.type === 'failed') throw fromWire(reply.error);
    if (reply.type !== 'pragma-result') throw new Error(`ledger writer thread answered a pragma with ${reply.type}`);
    return reply.value;
  }

  /**
   * Closes the writer's connection and ends the thread; the caller has nothing in flight. Idempotent.
   * By message, never Worker.terminate(): ending the thread inside a better-sqlite3 call aborts the
   * whole process (a fatal error in the addon's ThrowSqliteError, seen while testing).
   */
  async close(): Promise<void> {
    this.closed = true;
    const running = this.running;
    if (running === null) return;
    running.worker.ref();
    // A message sent before the thread listens could be lost: wait until it does (or has died).
    await running.ready.catch(() => {});
    if (this.running === running) running.worker.postMessage({ type: 'close' } satisfies ToWriter);
    await running.exited;
  }

  private async request(make: (id: number) => ToWriter & { id: number }): Promise<Reply> {
    if (this.closed) throw new Error(`ledger writer thread for ${this.data.file} is closed`);
    const running = (this.running ??= this.start());
    if (running.outstanding++ === 0) running.worker.ref();
    try {
      await running.ready;
      return await new Promise<Reply>((resolve, reject) => {
        if (!running.alive) return reject(new Error(`ledger writer thread for ${this.data.file} stopped before the request was sent`));
        const message = make(this.nextId++);
        running.pending.set(message.id, { resolve, reject });
        running.worker.postMessage(message);
      });
    } finally {
      // Idle, the thread must not keep the process alive (the in-thread ledger did not either).
      if (--running.outstanding === 0) running.worker.unref();
    }
  }

  private start(): Running {
    const worker = startWorker(this.data);
    worker.unref();
    let markReady!: () => void;
    let refuse!: (error: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      refuse = reject;
    });
    // Awaited by each request; a rejection nobody awaited yet must not crash the process.
    ready.catch(() => {});
    let cause: Error | undefined;
    let markExited!: () => void;
    const exited = new Promise<void>((resolve) => (markExited = resolve));
    const running: Running = { worker, ready, exited, pending: new Map(), outstanding: 0, alive: true };

    worker.on('message', (message: FromWriter) => {
      switch (message.type) {
        case 'ready':
          return markReady();
        case 'open-failed':
          cause = fromWire(message.error);
          return refuse(cause);
        default: {
          const waiter = running.pending.get(message.id);
          running.pending.delete(message.id);
          waiter?.resolve(message);
        }
      }
    });
    // An uncaught error in the thread: the 'exit' that follows reports it.
    worker.on('error', (error) => (cause ??= error));
    worker.on('exit', (code) => {
      running.alive = false;
      if (this.running === running) this.running = null;
      const asked = this.closed && code === 0;
      const error = new Error(
        `ledger writer thread for ${this.data.file} stopped (exit code ${code}${cause ? `: ${cause.message}` : ''}); ` +
          'the records it had in flight were refused',
      );
      refuse(cause ?? error);
      for (const waiter of running.pending.values()) waiter.reject(error);
      running.pending.clear();
      markExited();
      if (!asked) {
        try {
          this.onStopped?.(error);
        } catch {
          // A failing observer must not keep the exit from being handled.
        }
      }
    });
    return running;
  }
}
