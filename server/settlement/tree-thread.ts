import { Worker } from 'node:worker_threads';
import type { ClosedTree, FromTree, ToTree, TreeBuild } from './tree-protocol.js';

export type { ClosedTree, TreeBuild } from './tree-protocol.js';

/**
 * The main thread's handle on the reward-tree worker (tree-worker.ts): one thread for the process,
 * started on first use, that keeps the process alive only while it has work. A thread that dies
 * rejects what it had in flight; the next request starts a fresh one.
 */

/** Located as sqlite-writer-thread.ts locates its worker: the .js beside this file, or tsx from source. */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./tree-worker.js', import.meta.url));
  const source = new URL('./tree-worker.ts', import.meta.url).href;
  return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(source)}); });`, { eval: true });
}

type Pending = { resolve(reply: FromTree): void; reject(error: Error): void };

class TreeThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  /**
   * Merges the previous epoch's leaves (its checked chunks, tree-chunks.ts) with the epoch's work
   * and builds the tree; null when the work rounds to nothing. Transfers the chunks and `work`.
   */
  async close(request: { previous: Uint8Array[]; members: string[]; work: Float64Array; reward: bigint; reinvestmentBps: number }): Promise<ClosedTree | null> {
    const reply = await this.request((id) => ({ type: 'close', id, ...request }), [...request.previous.map((c) => c.buffer as ArrayBuffer), request.work.buffer as ArrayBuffer]);
    if (reply.type !== 'closed') throw new Error(`reward-tree worker answered a close with ${reply.type}`);
    return reply.result;
  }

  /** Builds the tree of an epoch's leaves (its checked chunks, in order); transfers them. */
  async build(chunks: Uint8Array[]): Promise<TreeBuild> {
    const reply = await this.request((id) => ({ type: 'build', id, chunks }), chunks.map((c) => c.buffer as ArrayBuffer));
    if (reply.type !== 'built') throw new Error(`reward-tree worker answered a build with ${reply.type}`);
    return reply.result;
  }

  private request(make: (id: number) => ToTree, transfer: ArrayBuffer[]): Promise<FromTree> {
    const worker = (this.worker ??= this.start());
    const id = this.nextId++;
    return new Promise<FromTree>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) worker.ref();
      worker.postMessage(make(id), transfer);
    }).then((reply) => {
      if (reply.type === 'failed') throw new Error(reply.message);
      return reply;
    });
  }

  private start(): Worker {
    const worker = startWorker();
    worker.unref();
    worker.on('message', (reply: FromTree) => {
      const waiting = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      waiting?.resolve(reply);
    });
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const waiting of this.pending.values()) waiting.reject(new Error(`the reward-tree worker stopped: ${error.message}`));
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    return worker;
  }
}

/** The process's tree worker. */
export const treeThread = new TreeThread();
