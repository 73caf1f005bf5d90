// The leaves that changed in an epoch, as they travel from the tree worker to the store: one text
// line per leaf, "member epochWork epochReward cumulativeWork cumulativeReward" (decimal). One
// string crosses the thread boundary as a plain copy of bytes, where 100,000 objects with bigints
// would be rebuilt one by one on the event loop (hundreds of milliseconds, measured); the store
// then reads it a batch at a time between its small write transactions.
import type { ChangedLeaf } from './epoch-merge.js';

/** A changed leaf as stored in epoch_leaves: amounts as decimal text. */
export interface ChangedRow {
  member: string;
  epochWork: string;
  epochReward: string;
  cumulativeWork: string;
  cumulativeReward: string;
}

export function changedLeavesText(leaves: readonly ChangedLeaf[]): string {
  return leaves.map((l) => `${l.member} ${l.epochWork} ${l.epochReward} ${l.cumulativeWork} ${l.cumulativeReward}`).join('\n');
}

/** The rows of `text`, `size` at a time. */
export function* changedRowBatches(text: string, size: number): Generator<ChangedRow[]> {
  let batch: ChangedRow[] = [];
  for (let start = 0; start < text.length; ) {
    const end = text.indexOf('\n', start);
    const line = text.slice(start, end < 0 ? text.length : end);
    start = end < 0 ? text.length : end + 1;
    const [member, epochWork, epochReward, cumulativeWork, cumulativeReward] = line.split(' ');
    if (cumulativeReward === undefined) throw new Error(`malformed changed leaf from the tree worker: ${JSON.stringify(line.slice(0, 120))}`);
    batch.push({ member: member!, epochWork: epochWork!, epochReward: epochReward!, cumulativeWork: cumulativeWork!, cumulativeReward });
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
