import { LitElement, css, html } from 'lit';
import type { ChainConfig } from '../chain/chain-config.js';
import type { ChainSession, ChainSnapshot } from '../chain/chain-session.js';
import type { ShareAuditResult } from '../chain/share-audit.js';
import { formatDuration, formatToken } from './chain-format.js';
import './confirm-dialog.js';
import type { ConfirmDialog } from './confirm-dialog.js';
import { countOf, formatWork } from './units.js';
import { isFinalRoot } from '../chain/dao-reader.js';

/**
 * The member's work three ways, side by side: counted on this device, credited by the pool, and
 * committed on-chain (the leaf of the latest published epoch, verified here against the root read
 * from the chain). Below: the reward that leaf lets the member claim, the token balance, the claim
 * buttons (held back while the root is in its challenge period, or for good once a guardian vetoed
 * it) and when the next epoch closes.
 */
export class DaoChainPanel extends LitElement {
  static override properties = {
    session: { attribute: false },
    snapshot: { attribute: false },
    config: { attribute: false },
    shareAudit: { state: true },
  };
  /** The last "are all my shares in the epoch" check: running, its result, or why it failed. */
  shareAudit: { running: true } | { running: false; result?: ShareAuditResult; error?: string } | undefined;
  session: ChainSession | undefined;
  snapshot: ChainSnapshot | undefined;
  config: ChainConfig | undefined;

  static override styles = css`
    :host { display: block; }
    .figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(11rem, 1fr)); gap: 0.75rem; margin: 0 0 0.75rem; }
    .figure { border: 1px solid #ccc; border-radius: 0.4rem; padding: 0.5rem 0.75rem; }
    .figure h3 { font-size: 0.9rem; font-weight: normal; color: #777; margin: 0 0 0.25rem; }
    .figure p { margin: 0; font-size: 1.1rem; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
    .figure small { color: #777; }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; margin: 0.5rem 0; }
    dt { color: #777; }
    dd { margin: 0; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
    .row { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1rem; margin: 0.5rem 0; }
    button { font: inherit; padding: 0.4rem 0.9rem; }
    .ok { color: #272; }
    .bad, .error { color: #c22; }
    @media (max-width: 30rem) { dl { grid-template-columns: 1fr; } dt { margin-top: 0.4rem; } }
  `;

  override render() {
    const s = this.snapshot;
    const config = this.config;
    if (!s || !config) return html`<p>Reading the chain…</p>`;
    const token = (amount: bigint) => formatToken(amount, config.token.decimals, config.token.symbol);
    const proof = s.proof;
    const committed = proof?.verified ? proof.leaf?.cumulativeWork : undefined;
    return html`
      <div class="figures" role="group" aria-label="Your work, three ways">
        <div class="figure" data-testid="work-local">
          <h3>Work counted on this device</h3>
          <p data-work-local=${s.localWork === undefined ? '' : Math.round(s.localWork)}>${s.localWork === undefined ? '—' : formatWork(s.localWork)}</p>
          <small>this identity's accepted shares, as this browser recorded them</small>
        </div>
        <div class="figure" data-testid="work-pool">
          <h3>Work credited by the pool</h3>
          <p data-work-pool=${s.credit ? Math.round(s.credit.work) : ''}>${s.credit ? formatWork(s.credit.work) : '—'}</p>
          <small>${s.credit ? `${countOf(s.credit.shares, 'share')} in the pool's ledger` : 'no answer from the pool'}</small>
        </div>
        <div class="figure" data-testid="work-onchain">
          <h3>Work committed on-chain</h3>
          <p data-work-onchain=${committed?.toString() ?? ''}>${committed === undefined ? '—' : formatWork(committed.toString())}</p>
          <small>${proof && proof.epoch > 0 ? `up to epoch ${proof.epoch}` : 'no epoch published yet'}${committed !== undefined && s.credit && committed.toString() !== String(Math.round(s.credit.work)) ? html`<br /><span data-work-why>work since epoch ${proof?.epoch} is not settled yet${s.current ? `: epoch ${s.current.epoch} closes at ${new Date(s.current.endsAtMs).toLocaleString()}` : ''}</span>` : ''}</small>
        </div>
      </div>
      ${this.renderProof()}
      ${this.renderShareAudit()}
      <dl>
        <dt>Claimable reward</dt>
        <dd data-claimable=${s.claimable?.toString() ?? ''}>${s.claimable === undefined ? '—' : token(s.claimable)}</dd>
        <dt>Token balance</dt>
        <dd data-token-balance=${s.balance?.toString() ?? ''}>${s.balance === undefined ? '—' : token(s.balance)}</dd>
        <dt>Next epoch closes</dt>
        <dd data-epoch-ends-at=${s.current?.endsAtMs ?? ''}>
          ${s.current ? `${new Date(s.current.endsAtMs).toLocaleString()} (in ${formatDuration((s.current.endsAtMs - Date.now()) / 1000)}; epoch ${s.current.epoch})` : '—'}
          ${s.current && !s.current.pendingWork ? html`<br /><small data-epoch-needs-work>only if a share comes in before then: an epoch with no work does not close</small>` : ''}
        </dd>
      </dl>
      ${this.renderClaim(token)}
      ${s.error ? html`<p class="error" role="alert" data-chain-error>${s.error}</p>` : ''}
    `;
  }

  private renderProof() {
    const proof = this.snapshot?.proof;
    if (!this.snapshot?.address) return html`<p data-testid="proof-status" data-proof-verified="">Your figures appear once you have a member address.</p>`;
    if (!proof) return html`<p data-testid="proof-status" data-proof-verified="">Checking your proof…</p>`;
    if (proof.verified) {
      return html`<p data-testid="proof-status" data-proof-verified="true" data-proof-epoch=${proof.epoch} class="ok">
        Proof verified against the on-chain root of epoch ${proof.epoch} <span aria-label="verified">✓</span>
      </p>`;
    }
    // Nothing published yet, or no leaf: a note; a proof that fails against the chain: a warning.
    const failed = proof.leaf !== undefined;
    return html`<p data-testid="proof-status" data-proof-verified=${failed ? 'false' : ''} data-proof-epoch=${proof.epoch} class=${failed ? 'bad' : ''}
      role=${failed ? 'alert' : 'status'}>
      ${failed ? html`Proof NOT verified against the on-chain root of epoch ${proof.epoch} <span aria-label="not verified">✗</span>: ` : ''}${proof.reason}
    </p>`;
  }

  private renderShareAudit() {
    const epoch = this.snapshot?.proof?.epoch ?? 0;
    if (!this.snapshot?.address || epoch === 0) return '';
    const audit = this.shareAudit;
    const result = audit && !audit.running ? audit.result : undefined;
    const missing = result?.missing ?? [];
    return html`
      <div class="row">
        <button type="button" data-testid="check-shares" ?disabled=${audit?.running === true} @click=${() => void this.checkShares(epoch)}>
          Check my shares are in epoch ${epoch}
        </button>
        ${audit?.running ? html`<small>downloading the epoch's audit bundle…</small>` : ''}
      </div>
      ${result && missing.length === 0
        ? html`<p class="ok" role="status" data-share-audit="complete" data-share-audit-checked=${result.checked}>
            All ${result.checked.toLocaleString()} of your shares are in epoch ${result.epoch} ✓
          </p>`
        : ''}
      ${result && missing.length > 0
        ? html`<div class="bad" role="alert" data-share-audit="missing" data-share-audit-missing=${missing.length}>
            ${missing.length.toLocaleString()} of your ${result.checked.toLocaleString()} accepted shares are missing from epoch ${result.epoch}:
            <ul>${missing.map((s) => html`<li data-missing-share>sent ${new Date(s.submittedAtMs).toLocaleString()}: job ${s.jobId}, extranonce2 ${s.extranonce2}, nonce ${s.nonce}</li>`)}</ul>
          </div>`
        : ''}
      ${audit && !audit.running && audit.error ? html`<p class="error" role="alert" data-share-audit="error">${audit.error}</p>` : ''}
    `;
  }

  private async checkShares(epoch: number): Promise<void> {
    if (!this.session) return;
    this.shareAudit = { running: true };
    try {
      this.shareAudit = { running: false, result: await this.session.checkShares(epoch) };
    } catch (err) {
      this.shareAudit = { running: false, error: `Could not check your shares: ${err instanceof Error ? err.message : String(err)}` };
    }
  }

  private renderClaim(token: (amount: bigint) => string) {
    const s = this.snapshot!;
    const claim = s.claim;
    const pending = claim?.status === 'queued' || claim?.status === 'sent';
    const window = s.rootWindow;
    const nowSeconds = (s.chainTime ?? 0) + (s.polledAtMs ? (Date.now() - s.polledAtMs) / 1000 : 0);
    const final = window === undefined || isFinalRoot(window, nowSeconds);
    const canClaim = s.claimable !== undefined && s.claimable > 0n && !pending && !s.busy && final;
    const status = claim
      ? {
          queued: 'Claim queued: the relayer sends it with its next batch.',
          sent: `Claim sent${claim.txHash ? ` in ${claim.txHash}` : ''}, waiting to be mined.`,
          // A claim the chain skipped paid nothing: another transaction had claimed it first.
          confirmed: claim.skipped ? `Claim skipped by the chain: ${claim.skipped}.` : `Claim confirmed${claim.amount !== undefined ? `: ${token(claim.amount)}` : ''}.`,
          failed: `Claim failed: ${claim.error ?? 'refused by the chain'}.`,
        }[claim.status]
      : '';
    return html`
      <div class="row">
        <button type="button" data-testid="claim" ?disabled=${!canClaim} @click=${() => void this.claim(token, false)}>
          ${s.claimable ? `Claim ${token(s.claimable)}` : 'Claim'}
        </button>
        ${s.identitySource === 'injected'
          ? html`<button type="button" data-testid="claim-wallet" ?disabled=${!canClaim} @click=${() => void this.claim(token, true)}>
              Claim from my wallet
            </button>`
          : ''}
        <small>${s.identitySource === 'injected' ? 'the relayer pays the gas, or your wallet does' : 'signed with your key here; the relayer pays the gas'}</small>
      </div>
      ${window?.vetoReason !== undefined
        ? html`<p class="bad" role="alert" data-root-vetoed=${window.epoch}>Epoch ${window.epoch}'s root was vetoed: ${window.vetoReason}. It will never be claimable; the next root settles everything.</p>`
        : !final && window
          ? html`<p role="status" data-claimable-from=${window.finalFromSeconds}>
              Epoch ${window.epoch} claimable from ${new Date(window.finalFromSeconds * 1000).toLocaleString()} (its challenge period: a guardian may still veto the root).
            </p>`
          : ''}
      ${claim ? html`<p data-claim-status=${claim.status} role="status">${status}</p>` : ''}
      ${s.actionError?.action === 'claim' ? html`<p class="error" role="alert" data-action-error>${s.actionError.message}</p>` : ''}
      <dao-confirm-dialog></dao-confirm-dialog>
    `;
  }

  /** Signs (or has the wallet send) a claim only once the member confirmed the amount, epoch and recipient. */
  private async claim(token: (amount: bigint) => string, fromWallet: boolean): Promise<void> {
    const s = this.snapshot;
    if (!s?.address || s.claimable === undefined || !s.proof?.verified) return;
    const confirmed = await this.renderRoot.querySelector<ConfirmDialog>('dao-confirm-dialog')?.ask({
      title: fromWallet ? 'Send this claim from your wallet?' : 'Sign this claim?',
      lines: [
        `Claim ${token(s.claimable)} for epoch ${s.proof.epoch} to ${s.address}.`,
        fromWallet ? 'Your wallet sends the transaction and pays its gas.' : 'Signed with your key here; the relayer sends it and pays the gas.',
      ],
    });
    if (!confirmed) return;
    await (fromWallet ? this.session?.claimFromWallet() : this.session?.claim());
  }
}

customElements.define('dao-chain-panel', DaoChainPanel);
