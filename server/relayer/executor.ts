// The relayer executes passed proposals itself, so a decision takes effect without a member paying
// gas or knowing that execute exists. Only the settlement leader runs it (like every relayer send),
// it stops when the gas budget is spent, and it is idempotent: a proposal already executed, by
// another gateway or anyone, fails its static call and is skipped without a transaction.
import type { Logger } from 'pino';
import type { ProposalView } from '../../protocol/dao/proposals.js';
import { pendingNonce, receiptOf, revertReason } from './chain-errors.js';
import type { RelayContext } from './lane.js';

/** Most executions one relayer round sends: bounds one round's gas whatever piles up. */
export const MAX_EXECUTIONS_PER_ROUND = 4;

export interface ExecutorContext extends RelayContext {
  readonly log: Logger;
  /** Asked before each send: a gateway deposed mid-round stops. */
  isLeader(): boolean;
  /** The proposals with the contract's own state (as of the latest block). */
  proposals(): Promise<ProposalView[]>;
}

/**
 * Executes the proposals the governor says are Succeeded, newest first: an older change of the
 * same parameter would be superseded by the newer one anyway, so it costs no gas. Returns the
 * number executed; throws (for the next round to retry) when the node does not answer.
 */
export async function executePassed(ctx: ExecutorContext): Promise<number> {
  const { chain, limits, log } = ctx;
  const governor = ctx.reads.governor;
  const passed = (await ctx.proposals()).filter((p) => p.state === 'succeeded').reverse();
  let executed = 0;
  for (const proposal of passed) {
    if (executed >= MAX_EXECUTIONS_PER_ROUND || !ctx.isLeader() || limits.pausedForSeconds() !== undefined) break;
    try {
      await governor.getFunction('execute').staticCall(proposal.id);
    } catch (err) {
      const reason = revertReason(err, governor.interface);
      if (reason === undefined) throw err;
      log.debug({ proposalId: proposal.id.toString(), reason }, 'a passed proposal cannot be executed now');
      continue;
    }
    const tx = await chain.relayer.sender.send(async () =>
      chain.relayer.governor.getFunction('execute')(proposal.id, { nonce: await pendingNonce(chain.provider, chain.relayer.address) }),
    );
    const receipt = await receiptOf(tx);
    // Reverted or not, the gas is paid: it counts against the budget.
    limits.spent(receipt.fee);
    const fields = { proposalId: proposal.id.toString(), txHash: receipt.hash, gasUsed: receipt.gasUsed.toString() };
    if (receipt.status !== 1) {
      // Another gateway (a deposed leader) or a member executed it first, or its window closed.
      log.warn(fields, 'executing a passed proposal reverted');
      continue;
    }
    executed++;
    log.info(fields, `executed proposal ${proposal.id}`);
  }
  return executed;
}
