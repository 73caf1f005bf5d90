// Which epoch a relayed claim or proposal must name: the latest FINAL one (published, past its
// challenge period, not vetoed). A root still in its challenge period may yet be vetoed, and a
// vetoed one is never claimable, so the contract refuses both; the relayer says why before queueing.
import { HttpError } from '../http/respond.js';
import { chainRead } from './chain-errors.js';
import type { RelayContext } from './lane.js';

/**
 * Resolves when `signedEpoch` is the latest final epoch. Otherwise: 422 when no root is final yet
 * or the signed one was vetoed (it never will be), 409 when it is still in its challenge period
 * (retry from the time given) or an older one (sign again for the latest final epoch).
 */
export async function requireLatestFinal(ctx: RelayContext, signedEpoch: bigint, what: string): Promise<bigint> {
  const distributor = ctx.reads.distributor;
  const latestFinal = (await chainRead('latestFinalEpoch', () => distributor.getFunction('latestFinalEpoch')())) as bigint;
  if (signedEpoch === latestFinal && latestFinal !== 0n) return latestFinal;
  const instead = latestFinal === 0n ? 'no root is final yet' : `sign again for epoch ${latestFinal}, the latest final one`;
  if (signedEpoch > latestFinal) {
    const [vetoedAt, endsAt] = (await chainRead('challenge state', () =>
      Promise.all([distributor.getFunction('vetoedAt')(signedEpoch), distributor.getFunction('challengeEndsAt')(signedEpoch)]),
    )) as [bigint, bigint];
    if (vetoedAt !== 0n) {
      throw new HttpError(422, `${what} names epoch ${signedEpoch}, whose root was vetoed by the DAO's guardian (reason: GET /api/epochs/${signedEpoch}); it can never be used: ${instead}`);
    }
    if (endsAt !== 0n) {
      throw new HttpError(409, `${what} names epoch ${signedEpoch}, whose root is in its challenge period until ${new Date(Number(endsAt) * 1000).toISOString()}: usable from then; until then ${instead}`);
    }
  }
  if (latestFinal === 0n) throw new HttpError(422, `${what} names epoch ${signedEpoch}, but ${instead}`);
  throw new HttpError(409, `${what} is signed for epoch ${signedEpoch} but the latest final epoch is ${latestFinal}: a request is good for the latest final epoch only; ${instead}`);
}
