import { LitElement, css, html } from 'lit';
import { getAddress, isAddress, parseUnits } from 'ethers';
import {
  ProposalKind,
  REINVESTMENT_BPS_PARAMETER,
  SPENDING_CATEGORIES,
  VoteSupport,
  decodeSpendingParameter,
  spendingParameter,
  stateAtTime,
  type ProposalState,
  type ProposalView,
  type SpendingCategory,
} from '../../protocol/dao/index.js';
import type { ChainConfig } from '../chain/chain-config.js';
import type { ChainSession, ChainSnapshot, MemberVote } from '../chain/chain-session.js';
import { formatDuration, formatToken } from './chain-format.js';
import './confirm-dialog.js';
import type { ConfirmDialog } from './confirm-dialog.js';
import { formatWork, quorumText } from './units.js';

/** The relayer's refusal in the member's words: "no leaf" or "not a member in epoch N" mean no work in the epoch the proposal weighs. */
function plainVoteError(message: string): string {
  const epoch = /not a member in epoch (\d+)/.exec(message)?.[1];
  if (epoch !== undefined) return `this address has no work in epoch ${epoch}, the epoch this proposal weighs: it has no vote on it`;
  return /no leaf/.test(message) ? 'this address has no work in the epoch this proposal weighs: it has no vote on it' : message;
}

const ZERO_PARAMETER = `0x${'00'.repeat(32)}`;
const SUPPORT_NAMES: Record<VoteSupport, string> = { 0: 'Against', 1: 'For', 2: 'Abstain' };
const STATE_NAMES: Record<ProposalState, string> = {
  active: 'Active',
  defeated: 'Defeated',
  succeeded: 'Succeeded',
  executed: 'Executed',
  expired: 'Expired',
  superseded: 'Superseded',
};
/** What each state past the vote means, for the line under the title. */
const STATE_NOTES: Partial<Record<ProposalState, string>> = {
  executed: 'applied on-chain',
  expired: 'passed, but nobody executed it within its window',
  superseded: 'passed, but a newer decision on the same parameter was applied first',
};

/**
 * The DAO's proposals with live tallies (work for, against and abstaining, each as a share of the
 * quorum), the member's vote buttons (signed here, relayed by the gateway) and vote status, and a
 * small form to propose a signal, a new reinvested share, or a payment from the treasury.
 */
export class ProposalsPanel extends LitElement {
  static override properties = {
    session: { attribute: false },
    snapshot: { attribute: false },
    config: { attribute: false },
    kind: { state: true },
  };
  session: ChainSession | undefined;
  snapshot: ChainSnapshot | undefined;
  config: ChainConfig | undefined;
  kind: ProposalKind = ProposalKind.Signal;

  static override styles = css`
    :host { display: block; }
    ul { list-style: none; padding: 0; margin: 0; display: grid; gap: 0.75rem; }
    li { border: 1px solid #ccc; border-radius: 0.4rem; padding: 0.5rem 0.75rem; }
    h3 { font-size: 1rem; margin: 0 0 0.25rem; overflow-wrap: anywhere; }
    p { margin: 0.25rem 0; }
    .meta { color: #777; }
    .tally { display: grid; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr)); gap: 0.25rem 1rem; font-variant-numeric: tabular-nums; }
    .row { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem; margin: 0.5rem 0; }
    button, select, textarea, input { font: inherit; }
    button { padding: 0.4rem 0.9rem; }
    form { display: grid; gap: 0.4rem; max-width: 36rem; margin-top: 1rem; }
    textarea { width: 100%; box-sizing: border-box; min-height: 4rem; }
    .error { color: #c22; }
    .ok { color: #272; }
  `;

  override render() {
    const s = this.snapshot;
    if (!s) return html``;
    return html`
      ${s.proposals.length === 0
        ? html`<p data-proposals="0">No proposals yet.</p>`
        : // Newest on top.
          html`<ul data-proposals=${s.proposals.length}>${[...s.proposals].reverse().map((p) => this.renderProposal(p, s))}</ul>`}
      ${s.actionError?.action === 'vote' ? html`<p class="error" role="alert" data-vote-error>${plainVoteError(s.actionError.message)}</p>` : ''}
      ${this.renderForm(s)}
      <dao-confirm-dialog></dao-confirm-dialog>
    `;
  }

  private renderProposal(p: ProposalView, s: ChainSnapshot) {
    const id = p.id.toString();
    const vote = s.votes[id];
    const now = (s.chainTime ?? 0) + (s.polledAtMs ? (Date.now() - s.polledAtMs) / 1000 : 0);
    // The contract's state is as of the latest block; what only time changes follows chain time now.
    const state = stateAtTime(p, now);
    const what = this.what(p);
    const counted = (label: string, work: bigint, attribute: string) =>
      html`<span data-tally=${attribute} data-work=${work.toString()}>${label}: ${formatWork(work.toString())} (${quorumText(work, p.quorumWork)})</span>`;
    // No verified work in any published epoch: no voting weight, so no buttons that would only get a refusal.
    const hasWeight = s.proof?.verified === true;
    const canVote = state === 'active' && s.address !== undefined && hasWeight && !voteStands(vote) && s.busy === undefined;
    const noWeight = state === 'active' && s.address !== undefined && !hasWeight && !voteStands(vote);
    const note =
      state === 'active'
        ? ` · ${formatDuration(Number(p.voteEnd) - now)} left`
        : state === 'succeeded'
          ? ` · to be executed within ${formatDuration(Number(p.executableUntil) - now)}`
          : STATE_NOTES[state] !== undefined
            ? ` · ${STATE_NOTES[state]}`
            : '';
    return html`<li data-proposal-id=${id} data-state=${state}>
      <h3>#${id}: ${p.description ?? '(description not found)'}</h3>
      <p class="meta">
        ${what} · weight from epoch ${p.epoch} ·
        <span data-proposal-state=${state}>${STATE_NAMES[state]}</span>${note}
      </p>
      <div class="tally" aria-label="Tally of proposal ${id}">
        ${counted('For', p.forWork, 'for')} ${counted('Against', p.againstWork, 'against')} ${counted('Abstain', p.abstainWork, 'abstain')}
        <span>Quorum: ${formatWork(p.quorumWork.toString())}</span>
      </div>
      ${canVote
        ? html`<div class="row" role="group" aria-label="Vote on proposal ${id}">
            ${([VoteSupport.For, VoteSupport.Against, VoteSupport.Abstain] as VoteSupport[]).map(
              (support) => html`<button type="button" data-vote=${SUPPORT_NAMES[support]} @click=${() => void this.vote(p, support)}>
                ${SUPPORT_NAMES[support]}
              </button>`,
            )}
          </div>`
        : noWeight
          ? html`<p class="meta" data-no-weight>You can vote once an epoch that includes your work is final.</p>`
          : ''}
      ${this.renderVote(vote)}
    </li>`;
  }

  private get confirmDialog(): ConfirmDialog | null {
    return this.renderRoot.querySelector<ConfirmDialog>('dao-confirm-dialog');
  }

  /** Signs a vote only once the member confirmed what it says and which address signs it. */
  private async vote(p: ProposalView, support: VoteSupport): Promise<void> {
    const voter = this.snapshot?.address;
    if (!voter) return;
    const confirmed = await this.confirmDialog?.ask({
      title: 'Sign this vote?',
      lines: [
        `Sign a vote ${SUPPORT_NAMES[support].toUpperCase()} proposal #${p.id} "${p.description ?? '(description not found)'}" (${this.what(p)}) as ${voter}.`,
        `It weighs the work committed by epoch ${p.epoch}, and cannot be changed once counted.`,
      ],
    });
    if (confirmed) await this.session?.vote(p.id, support);
  }

  private renderVote(vote: MemberVote | undefined) {
    if (!vote || (!vote.onChain && vote.relayStatus === undefined)) return '';
    const status = vote.onChain ? 'confirmed' : vote.relayStatus!;
    const choice = vote.support !== undefined ? `${SUPPORT_NAMES[vote.support]}: ` : '';
    const text = {
      // Counted either way; a skipped ballot was counted by another transaction (a copy sent first).
      confirmed: vote.skipped ? `counted on-chain by another transaction first (the relayer's batch skipped it: ${vote.skipped})` : 'counted on-chain',
      queued: 'signed and queued with the relayer',
      sent: `sent${vote.txHash ? ` in ${vote.txHash}` : ''}, waiting to be mined`,
      failed: `not counted: ${vote.error ?? 'refused by the chain'}`,
    }[status];
    return html`<p data-vote-status=${status} class=${status === 'confirmed' ? 'ok' : status === 'failed' ? 'error' : ''}>Your vote: ${choice}${text}</p>`;
  }

  private renderForm(s: ChainSnapshot) {
    const epoch = s.proof?.verified ? s.proof.epoch : undefined;
    const disabled = epoch === undefined || s.busy !== undefined;
    return html`<form @submit=${this.submit} aria-labelledby="propose-title">
      <h3 id="propose-title">Propose</h3>
      <label for="proposal-kind">Kind</label>
      <select id="proposal-kind" @change=${(e: Event) => (this.kind = Number((e.target as HTMLSelectElement).value) as ProposalKind)}>
        <option value=${ProposalKind.Signal} ?selected=${this.kind === ProposalKind.Signal}>Signal (text only)</option>
        <option value=${ProposalKind.ParameterChange} ?selected=${this.kind === ProposalKind.ParameterChange}>Change the reinvested share</option>
        <option value=${ProposalKind.Spending} ?selected=${this.kind === ProposalKind.Spending}>Spend from the treasury</option>
      </select>
      <label for="proposal-description">Description</label>
      <textarea id="proposal-description" required maxlength="2000"></textarea>
      ${this.kind === ProposalKind.ParameterChange
        ? html`<label for="proposal-share">New reinvested share (%), now ${s.reinvestmentBps === undefined ? '…' : bpsToPercent(BigInt(s.reinvestmentBps))}</label>
            <input id="proposal-share" type="number" min="0" max="100" step="0.01" required />`
        : ''}
      ${this.kind === ProposalKind.Spending ? this.renderSpendingFields(s) : ''}
      <div class="row">
        <button type="submit" ?disabled=${disabled}>Sign and propose</button>
        <small>${epoch === undefined ? 'proposing needs work committed in a published epoch' : `pinned to epoch ${epoch}, the latest: votes weigh the work every member committed by then`}</small>
      </div>
      ${s.actionDone === 'propose' ? html`<p class="ok" role="status" data-proposal-sent>Proposal signed and queued with the relayer.</p>` : ''}
      ${s.actionError?.action === 'propose' ? html`<p class="error" role="alert" data-proposal-error>${s.actionError.message}</p>` : ''}
    </form>`;
  }

  private renderSpendingFields(s: ChainSnapshot) {
    const balance = s.treasury && this.config ? formatToken(s.treasury.balance, this.config.token.decimals, this.config.token.symbol) : '…';
    return html`<label for="spending-recipient">Recipient address</label>
      <input id="spending-recipient" required pattern="0x[0-9a-fA-F]{40}" placeholder="0x…" />
      <label for="spending-amount">Amount (${this.config?.token.symbol ?? 'tokens'}), the treasury holds ${balance}</label>
      <input id="spending-amount" type="text" inputmode="decimal" required pattern="[0-9]+(\\.[0-9]+)?" />
      <label for="spending-category">For</label>
      <select id="spending-category">
        ${SPENDING_CATEGORIES.map((c) => html`<option value=${c}>${c}</option>`)}
      </select>`;
  }

  /**
   * The packed parameter and amount of the spending in the form, or null (with the reason shown by
   * the browser) when the treasury would refuse it: the relayer and the contract check it again.
   */
  private readSpending(form: HTMLFormElement): { parameter: string; value: bigint } | null {
    const recipientInput = form.querySelector<HTMLInputElement>('#spending-recipient')!;
    const amountInput = form.querySelector<HTMLInputElement>('#spending-amount')!;
    const category = form.querySelector<HTMLSelectElement>('#spending-category')!.value as SpendingCategory;
    const recipient = recipientInput.value.trim();
    const refuse = (input: HTMLInputElement, reason: string) => {
      input.setCustomValidity(reason);
      input.reportValidity();
      input.addEventListener('input', () => input.setCustomValidity(''), { once: true });
      return null;
    };
    if (!isAddress(recipient) || BigInt(recipient) === 0n) return refuse(recipientInput, 'a recipient address (not the zero address)');
    let value: bigint;
    try {
      value = parseUnits(amountInput.value.trim(), this.config?.token.decimals ?? 18);
    } catch {
      return refuse(amountInput, 'an amount such as 12.5');
    }
    if (value <= 0n) return refuse(amountInput, 'an amount above 0');
    const balance = this.snapshot?.treasury?.balance;
    if (balance !== undefined && value > balance) return refuse(amountInput, 'more than the treasury holds');
    return { parameter: spendingParameter(getAddress(recipient), category), value };
  }

  /** What a proposal would do, in words (a spending names its amount, recipient and category). */
  private what(p: Pick<ProposalView, 'kind' | 'parameter' | 'value'>): string {
    if (p.kind !== ProposalKind.Spending) return proposalWhat(p);
    const terms = decodeSpendingParameter(p.parameter);
    const token = this.config?.token;
    const amount = token ? formatToken(p.value, token.decimals, token.symbol) : `${p.value} base units`;
    return terms ? `pay ${amount} to ${terms.recipient} for ${terms.category}` : `pay ${amount} (unreadable recipient ${p.parameter})`;
  }

  private async submit(event: Event): Promise<void> {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const description = form.querySelector<HTMLTextAreaElement>('#proposal-description')!.value.trim();
    if (!description) return;
    let parameter = ZERO_PARAMETER;
    let value = 0n;
    if (this.kind === ProposalKind.Spending) {
      const spending = this.readSpending(form);
      if (!spending) return;
      ({ parameter, value } = spending);
    } else if (this.kind === ProposalKind.ParameterChange) {
      const percent = Number(form.querySelector<HTMLInputElement>('#proposal-share')!.value);
      if (!Number.isFinite(percent) || percent < 0 || percent > 100) return;
      parameter = REINVESTMENT_BPS_PARAMETER;
      value = BigInt(Math.round(percent * 100));
    }
    const proposer = this.snapshot?.address;
    const epoch = this.snapshot?.proof?.verified ? this.snapshot.proof.epoch : undefined;
    const change =
      this.kind === ProposalKind.Spending
        ? `${this.what({ kind: ProposalKind.Spending, parameter, value })} from the treasury, once passed and executed`
        : this.kind === ProposalKind.ParameterChange
          ? `set the reinvested share to ${bpsToPercent(value)}${this.snapshot?.reinvestmentBps === undefined ? '' : ` (now ${bpsToPercent(BigInt(this.snapshot.reinvestmentBps))})`}`
          : 'a signal (text only)';
    const confirmed = await this.confirmDialog?.ask({
      title: 'Sign this proposal?',
      lines: [`Sign a proposal "${description}": ${change}, as ${proposer ?? 'your member address'}.`, `It is pinned to the latest final epoch (past its challenge period), ${epoch ?? '?'}: votes on it weigh the work committed by then.`],
    });
    if (!confirmed) return;
    await this.session?.propose(this.kind, description, parameter, value);
    if (this.session?.snapshot.actionDone === 'propose') {
      form.reset();
      this.kind = ProposalKind.Signal;
    }
  }
}

/** What a parameter change or a signal would do, in words. */
function proposalWhat(p: Pick<ProposalView, 'kind' | 'parameter' | 'value'>): string {
  if (p.kind !== ProposalKind.ParameterChange) return 'signal';
  return p.parameter.toLowerCase() === REINVESTMENT_BPS_PARAMETER ? `set the reinvested share to ${bpsToPercent(p.value)}` : `set parameter ${p.parameter} to ${p.value}`;
}

/** A vote that still counts or may still count: only a failed one may be cast again. */
function voteStands(vote: MemberVote | undefined): boolean {
  return vote !== undefined && (vote.onChain || (vote.relayStatus !== undefined && vote.relayStatus !== 'failed'));
}

function bpsToPercent(bps: bigint): string {
  return `${bps / 100n}${bps % 100n ? `.${(bps % 100n).toString().padStart(2, '0').replace(/0$/, '')}` : ''}%`;
}

customElements.define('dao-proposals-panel', ProposalsPanel);
