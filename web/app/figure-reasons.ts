// Why the device's count and the pool's count of the same member's shares differ, in plain words:
// a page that shows two numbers for one thing must say why they are not the same.
import { countOf } from './units.js';

export interface LocalShares {
  pending: number;
  accepted: number;
  rejected: number;
}

/**
 * The reasons `local` (this device's record) and `poolShares` (the pool's credit) differ, or []
 * when they agree. `rejectReasons`: this session's rejections by the pool's reason.
 */
export function shareDifference(local: LocalShares, poolShares: number | undefined, rejectReasons: Record<string, number>): string[] {
  const reasons: string[] = [];
  if (local.pending > 0) reasons.push(`${local.pending} in flight`);
  const why = Object.entries(rejectReasons).map(([reason, n]) => `${n} rejected: ${reason}`);
  if (why.length > 0) reasons.push(...why);
  else if (local.rejected > 0) reasons.push(`${countOf(local.rejected, 'share')} rejected by the pool, not credited`);
  if (poolShares === undefined) return reasons;
  if (poolShares > local.accepted) {
    reasons.push(`the pool credited ${poolShares - local.accepted} more: answered after Stop, or mined with this key in another browser`);
  } else if (poolShares < local.accepted) {
    reasons.push(`the pool's figure is read every 5 s: ${local.accepted - poolShares} not in it yet`);
  }
  return reasons;
}
