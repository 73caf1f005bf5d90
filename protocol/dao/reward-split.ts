// How one epoch's reward is divided (DESIGN.md, "How a share flows", item 5): the DAO's
// reinvestment share first, then the rest pro rata to the work each member did in the epoch.
// Integer arithmetic throughout: token base units and expected hashes are bigints, so the parts
// always add up to the whole.

export const BASIS_POINTS = 10_000;

export interface EpochSplit {
  /** To the treasury: the reinvestment share plus the rounding remainder of the members' split. */
  reinvested: bigint;
  /** What the members receive in total (the sum of `byMember`). */
  members: bigint;
  /** Reward added to each member by this epoch; members with no work this epoch are absent. */
  byMember: Map<string, bigint>;
}

/**
 * Splits `reward` for an epoch in which each member did `workByMember` (expected hashes).
 * Each member gets floor(pool * work / totalWork); the few units lost to rounding go to the
 * treasury rather than to whichever member sorts first, so no member is favoured. With no work at
 * all the whole reward is reinvested.
 */
export function splitEpochReward(workByMember: ReadonlyMap<string, bigint>, reward: bigint, reinvestmentBps: number): EpochSplit {
  if (reward < 0n) throw new RangeError('the epoch reward must not be negative');
  if (!Number.isInteger(reinvestmentBps) || reinvestmentBps < 0 || reinvestmentBps > BASIS_POINTS) {
    throw new RangeError(`reinvestmentBps must be an integer in 0..${BASIS_POINTS}, got ${reinvestmentBps}`);
  }
  let totalWork = 0n;
  for (const [member, work] of workByMember) {
    if (work < 0n) throw new RangeError(`negative work for ${member}`);
    totalWork += work;
  }
  const share = (reward * BigInt(reinvestmentBps)) / BigInt(BASIS_POINTS);
  const pool = reward - share;
  const byMember = new Map<string, bigint>();
  if (totalWork === 0n) return { reinvested: reward, members: 0n, byMember };
  let members = 0n;
  for (const [member, work] of workByMember) {
    if (work === 0n) continue;
    const amount = (pool * work) / totalWork;
    byMember.set(member, amount);
    members += amount;
  }
  return { reinvested: reward - members, members, byMember };
}
