// Signed proposal requests, relayed one per transaction (proposeBySig). The signature binds the
// proposer's current governor nonce, so a member has one request on its way at a time.
import { ZeroAddress, ZeroHash, keccak256, toUtf8Bytes } from 'ethers';
import type { AcceptedProposal } from '../../protocol/api.js';
import { HttpError } from '../http/respond.js';
import { decodeSpendingParameter } from '../../protocol/dao/spending.js';
import { PROPOSAL_REQUEST_TYPES, PROPOSAL_THRESHOLD_WORK_PARAMETER, ProposalKind, governorDomain } from '../../protocol/dao/typed-data.js';
import { chainRead } from './chain-errors.js';
import { requireLatestFinal } from './final-epoch.js';
import { addressField, choiceField, decimalField, hexField, integerField, onlyFields, stringField, type Body } from './input.js';
import { big, enqueueOrConflict, proofOf, text, type Lane, type RelayContext } from './lane.js';
import type { Payload, RelayRecord } from './request-store.js';
import { checkTypedSignature } from './signature.js';

/** The API's answer (protocol/api.ts), named here for the relayer that returns it. */
export type { AcceptedProposal };

export const MAX_DESCRIPTION_CHARS = 2000;

export function proposalKey(proposer: string, nonce: bigint): string {
  return `proposal:${proposer.toLowerCase()}:${nonce}`;
}

const KINDS = [ProposalKind.Signal, ProposalKind.ParameterChange, ProposalKind.Spending] as const;

/**
 * Checks a signed `{ proposer, kind, epoch, parameter, value, description, nonce, signature }` against the
 * governor's rules and queues it: 400 for a malformed body or a signature that is not the
 * proposer's (over the current nonce), 422 for what the governor would refuse, 409 while an
 * earlier proposal of the proposer is still on its way, or for a stale nonce or an epoch other
 * than the latest published one.
 */
export async function acceptProposal(ctx: RelayContext, body: Body): Promise<AcceptedProposal> {
  onlyFields(body, ['proposer', 'kind', 'epoch', 'parameter', 'value', 'description', 'nonce', 'signature']);
  const proposer = addressField(body, 'proposer');
  const kind = choiceField(body, 'kind', KINDS);
  const epoch = integerField(body, 'epoch');
  const parameter = hexField(body, 'parameter', 32);
  const value = decimalField(body, 'value');
  const description = stringField(body, 'description', MAX_DESCRIPTION_CHARS);
  // The nonce the proposer signed over: carried in the body so the signature is checked before any
  // chain read (a forged request costs the gateway no RPC call).
  const nonce = integerField(body, 'nonce', (1n << 256n) - 1n);
  const signature = hexField(body, 'signature', 65);
  const { chain } = ctx;
  const governor = ctx.reads.governor;

  // Before the signature: a second request signed while the first is queued carries the same nonce
  // and would otherwise be answered with a confusing "wrong signer".
  const pending = (await ctx.store.pendingFor('proposal', proposer))[0];
  if (pending) {
    throw new HttpError(409, `a proposal by ${proposer} is already ${pending.status} (request ${pending.id}); sign the next one once it is on-chain`);
  }
  const descriptionHash = keccak256(toUtf8Bytes(description));
  checkTypedSignature(
    governorDomain(chain.chainId, chain.deployment.governor),
    PROPOSAL_REQUEST_TYPES,
    { proposer, kind, epoch, parameter, value, descriptionHash, nonce },
    signature,
    proposer,
    `proposal request (nonce ${nonce})`,
  );
  ctx.limits.admitMember(proposer);
  const current = (await chainRead('nonces', () => governor.getFunction('nonces')(proposer))) as bigint;
  if (current !== nonce) throw new HttpError(409, `proposal request is signed with nonce ${nonce} but ${proposer}'s nonce on the governor is ${current}; sign it again with nonce ${current}`);

  // The governor pins a proposal to the latest final epoch only (EpochNotLatest), so no proposer
  // can choose an older electorate that leaves out the members who joined since, nor one a
  // guardian may still veto while the vote runs.
  await requireLatestFinal(ctx, epoch, 'proposal request');
  const totalWork = (await chainRead('totalWorkOf', () => ctx.reads.distributor.getFunction('totalWorkOf')(epoch))) as bigint;
  if (totalWork === 0n) throw new HttpError(422, `epoch ${epoch} carries no work on-chain; a proposal needs a published epoch with members`);
  if (kind === ProposalKind.ParameterChange) {
    const max = (await chainRead('parameterMax', () => governor.getFunction('parameterMax')(parameter))) as bigint;
    if (max === 0n) throw new HttpError(422, `unknown parameter ${parameter}: the governor governs no such parameter`);
    if (value > max) throw new HttpError(422, `value ${value} is over the maximum ${max} of parameter ${parameter}`);
  } else if (kind === ProposalKind.Spending) {
    await checkSpending(ctx, parameter, value, description);
  } else if (parameter !== ZeroHash || value !== 0n) {
    throw new HttpError(422, `a signal proposal carries no parameter: parameter must be ${ZeroHash} and value "0"`);
  }
  const leaf = await ctx.store.publishedLeaf(epoch, proposer);
  if (!leaf || leaf.cumulativeWork === 0n) throw new HttpError(422, `${proposer} is not a member in epoch ${epoch} (no work in that epoch's root)`);
  // The governor's proposal threshold (a governed parameter): a member with next to no work
  // cannot open proposals at the DAO's gas cost; the contract refuses them too.
  const threshold = (await chainRead('parameters', () => governor.getFunction('parameters')(PROPOSAL_THRESHOLD_WORK_PARAMETER))) as bigint;
  if (leaf.cumulativeWork < threshold) {
    throw new HttpError(422, `${proposer} has ${leaf.cumulativeWork} work in epoch ${epoch}, below the proposal threshold of ${threshold} (the governor's proposalThresholdWork): mine more before proposing`);
  }

  const id = await enqueueOrConflict(
    ctx,
    'proposal',
    proposalKey(proposer, nonce),
    proposer,
    {
      proposer,
      kind,
      epoch: epoch.toString(),
      parameter,
      value: value.toString(),
      description,
      signature,
      nonce: nonce.toString(),
      cumulativeWork: leaf.cumulativeWork.toString(),
      cumulativeReward: leaf.cumulativeReward.toString(),
      proof: leaf.proof,
    },
    `a proposal by ${proposer} with nonce ${nonce}`,
  );
  ctx.limits.accepted(proposer);
  return { id, status: 'queued', nonce };
}

/**
 * What the Treasury refuses when a spending proposal is opened (Treasury.checkSpending), said with
 * its reason before any gas is spent: a bad packed parameter, nothing to pay, nobody to pay, no
 * description, or more than the treasury holds now.
 */
async function checkSpending(ctx: RelayContext, parameter: string, amount: bigint, description: string): Promise<void> {
  const terms = decodeSpendingParameter(parameter);
  if (!terms) throw new HttpError(422, `spending parameter ${parameter} is not spendingParameter(recipient, category) with a category of hardware, hosting, partner or other`);
  if (terms.recipient === ZeroAddress) throw new HttpError(422, 'a spending to the zero address is refused: the tokens would be lost (ZeroRecipient)');
  if (amount === 0n) throw new HttpError(422, 'a spending of 0 is refused: it would pay nothing (ZeroAmount)');
  if (description.trim() === '') throw new HttpError(422, 'a spending needs a description: members must be told what it pays for (EmptyDescription)');
  const balance = (await chainRead('treasury balance', () => ctx.reads.treasury.getFunction('balance')())) as bigint;
  if (amount > balance) throw new HttpError(422, `a spending of ${amount} is over the treasury's balance of ${balance} (AmountOverBalance)`);
}

function argsOf(record: RelayRecord) {
  const p = record.payload;
  const request = { kind: Number(p['kind']), epoch: big(p, 'epoch'), parameter: text(p, 'parameter'), value: big(p, 'value'), description: text(p, 'description') };
  const leaf = { cumulativeWork: big(p, 'cumulativeWork'), cumulativeReward: big(p, 'cumulativeReward'), proof: proofOf(p) };
  return [text(p, 'proposer'), request, leaf, text(p, 'signature')] as const;
}

export function proposalLane(ctx: RelayContext): Lane {
  const governor = ctx.reads.governor;
  return {
    kind: 'proposal',
    // proposeBySig takes one request; each is its own transaction.
    maxBatch: 1,
    iface: governor.interface,
    doneIsExact: false,
    async check(record) {
      await governor.getFunction('proposeBySig').staticCall(...argsOf(record));
    },
    send(records, overrides) {
      return ctx.chain.relayer.governor.getFunction('proposeBySig')(...argsOf(records[0]!), overrides);
    },
    async tookEffect(record) {
      // The nonce is spent only by a proposal that was created.
      return ((await governor.getFunction('nonces')(text(record.payload, 'proposer'))) as bigint) > big(record.payload, 'nonce');
    },
    results(receipt, records) {
      const out = new Map<number, Payload>();
      const governorAddress = String(governor.target).toLowerCase();
      for (const log of receipt.logs) {
        if (log.address.toLowerCase() !== governorAddress) continue;
        const parsed = governor.interface.parseLog(log);
        if (parsed?.name === 'ProposalCreated' && records[0]) out.set(records[0].id, { proposalId: (parsed.args[0] as bigint).toString() });
      }
      return out;
    },
  };
}
