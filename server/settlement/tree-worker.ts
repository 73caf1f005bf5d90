import { parentPort } from 'node:worker_threads';
import { concatBytes } from '../../protocol/hex.js';
import { buildRewardTreeNodes } from '../../protocol/dao/reward-tree-builder.js';
import { changedLeavesText } from './changed-leaves.js';
import { mergeEpoch } from './epoch-merge.js';
import type { FromTree, ToTree, TreeBuild } from './tree-protocol.js';

/**
 * The reward-tree worker (started by tree-thread.ts): merges an epoch's leaves and hashes its tree
 * (seconds at a million members) off the gateway's event loop, which keeps acknowledging shares.
 * One request at a time, in order; a failure answers that request and the thread goes on.
 */

if (parentPort === null) throw new Error('tree-worker.ts runs as a worker thread (see tree-thread.ts)');
const port = parentPort;

async function build(leaves: Uint8Array, startedMs: number): Promise<TreeBuild> {
  const tree = await buildRewardTreeNodes(leaves);
  return { leaves, nodes: tree.nodes, root: tree.root, leafCount: tree.leafCount, totalWork: tree.totalWork, buildMs: performance.now() - startedMs };
}

async function answer(message: ToTree): Promise<{ reply: FromTree; transfer: ArrayBuffer[] }> {
  const startedMs = performance.now();
  if (message.type === 'build') {
    const result = await build(concatBytes(...message.chunks), startedMs);
    return { reply: { type: 'built', id: message.id, result }, transfer: [result.leaves.buffer as ArrayBuffer, result.nodes.buffer as ArrayBuffer] };
  }
  const merged = mergeEpoch({ ...message, previous: concatBytes(...message.previous) });
  if (!merged) return { reply: { type: 'closed', id: message.id, result: null }, transfer: [] };
  const tree = await build(merged.leaves, startedMs);
  const result = { ...tree, changed: changedLeavesText(merged.changed), epochWork: merged.epochWork, reward: merged.reward, reinvested: merged.reinvested };
  return { reply: { type: 'closed', id: message.id, result }, transfer: [tree.leaves.buffer as ArrayBuffer, tree.nodes.buffer as ArrayBuffer] };
}

let queue: Promise<void> = Promise.resolve();
port.on('message', (message: ToTree) => {
  queue = queue.then(async () => {
    try {
      const { reply, transfer } = await answer(message);
      port.postMessage(reply, transfer);
    } catch (error) {
      port.postMessage({ type: 'failed', id: message.id, message: error instanceof Error ? error.message : String(error) } satisfies FromTree);
    }
  });
});
