// The contributor's own record of its shares. Store mode keeps every share and the pool's answer in
// the member's IndexedDB (the "counted locally" column of DESIGN.md); address-only mode (the widget
// on a partner's site, where third-party storage may be blocked) keeps none. The records count
// nothing themselves: they follow the tally's events, and their counts are read from the store.
import { bytesToHex, u32ToHex } from '../../protocol/hex.js';
import type { ShareTally, TallyEvent } from '../miner/share-tally.js';
import type { MemberStore, ShareCounts } from '../store/member-store.js';

export interface ShareRecords {
  /** The stored counts of every share this device recorded; undefined without a store. */
  counts(): Promise<ShareCounts | undefined>;
  /** Resolves when every record started so far is written. */
  settled(): Promise<void>;
  /** Stops following the tally. */
  detach(): void;
}

/** Address-only mode: nothing is stored. */
export const noRecords: ShareRecords = {
  counts: async () => undefined,
  settled: async () => {},
  detach: () => {},
};

/** Store mode: each share the tally sees is added as pending, then settled with its answer. */
export function indexedDbRecords(
  store: MemberStore,
  tally: ShareTally,
  poolUrl: string,
  /** The member the shares are mined for and counted for now (undefined: no identity yet, every share). */
  member: () => string | undefined,
  onError: (message: string) => void,
): ShareRecords {
  const ids = new Map<number, Promise<number>>();
  let writes: Promise<unknown> = Promise.resolve();
  const track = (write: Promise<unknown>) => {
    const guarded = write.catch((err: unknown) => onError(`could not record a share: ${err instanceof Error ? err.message : String(err)}`));
    writes = Promise.all([writes, guarded]);
  };
  const detach = tally.onEvent((event: TallyEvent) => {
    if (event.type === 'sent') {
      const { share } = event;
      const address = member();
      const id = store.addShare({
        poolUrl,
        ...(address ? { member: address } : {}),
        jobId: share.job.job.jobId,
        extranonce2: bytesToHex(share.extranonce2),
        nonce: u32ToHex(share.nonce),
        ntime: u32ToHex(share.job.job.ntime),
        difficulty: share.job.difficulty,
        submittedAtMs: Date.now(),
      });
      ids.set(event.serial, id);
      track(id);
      return;
    }
    const id = ids.get(event.serial);
    ids.delete(event.serial);
    if (!id) return;
    const { outcome } = event;
    track(
      id.then((shareId) =>
        store.settleShare(shareId, {
          status: outcome.accepted ? 'accepted' : 'rejected',
          ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}),
          answeredAtMs: Date.now(),
        }),
      ),
    );
  });
  return {
    counts: () => store.shareCounts(member()),
    settled: () => writes.then(() => undefined),
    detach,
  };
}
