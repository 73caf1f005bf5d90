import { LitElement, css, html } from 'lit';
import type { TreasuryEntry } from '../../protocol/dao/index.js';
import type { ChainConfig } from '../chain/chain-config.js';
import type { ChainSnapshot } from '../chain/chain-session.js';
import { formatToken } from './chain-format.js';

/**
 * The DAO's treasury as the chain has it: what it holds, each epoch's reinvested share that came
 * in, and each payment a passed spending proposal made. Spending is proposed in the proposals panel.
 */
export class TreasuryPanel extends LitElement {
  static override properties = {
    snapshot: { attribute: false },
    config: { attribute: false },
  };
  snapshot: ChainSnapshot | undefined;
  config: ChainConfig | undefined;

  static override styles = css`
    :host { display: block; }
    ul { list-style: none; padding: 0; margin: 0.5rem 0 0; display: grid; gap: 0.25rem; font-variant-numeric: tabular-nums; }
    p { margin: 0.25rem 0; }
    .address { overflow-wrap: anywhere; color: #777; }
  `;

  override render() {
    const t = this.snapshot?.treasury;
    const config = this.config;
    if (!t || !config) return html`<p>Reading the treasury…</p>`;
    const amount = (value: bigint) => formatToken(value, config.token.decimals, config.token.symbol);
    return html`
      <p>Balance: <strong data-treasury-balance=${t.balance.toString()}>${amount(t.balance)}</strong></p>
      <p class="address">Contract ${t.address}: it pays only what a passed spending proposal orders.</p>
      ${t.history.length === 0
        ? html`<p data-treasury-history="0">Nothing has come in yet.</p>`
        : html`<ul data-treasury-history=${t.history.length}>${[...t.history].reverse().map((e) => this.renderEntry(e, amount))}</ul>`}
    `;
  }

  private renderEntry(e: TreasuryEntry, amount: (value: bigint) => string) {
    if (e.kind === 'inflow') return html`<li data-treasury-entry="inflow">+ ${amount(e.amount)}: reinvested share of epoch ${e.epoch}</li>`;
    return html`<li data-treasury-entry="payment">− ${amount(e.amount)} to ${e.recipient} for ${e.category} (proposal #${e.proposalId})</li>`;
  }
}

customElements.define('dao-treasury-panel', TreasuryPanel);
