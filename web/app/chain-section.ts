import { LitElement, css, html } from 'lit';
import type { ChainStatus } from '../chain/chain-config.js';
import { fetchChainStatus } from '../chain/gateway-api.js';
import type { ChainSession, ChainSnapshot } from '../chain/chain-session.js';
import type { MemberStore } from '../store/member-store.js';

/**
 * The on-chain part of the page: asks the gateway which chain the DAO settles on and, when there
 * is one, loads the chain code and the two panels (work and rewards; proposals) on demand, so the
 * page without a chain never downloads them. Reading starts at once, before any consent: it only
 * reads the chain and the API; nothing here hashes or connects to the pool.
 */
export class ChainSection extends LitElement {
  static override properties = {
    store: { attribute: false },
    address: {},
    status: { state: true },
    snapshot: { state: true },
    error: { state: true },
  };
  store: MemberStore | undefined;
  address: string | undefined;
  status: ChainStatus | undefined;
  snapshot: ChainSnapshot | undefined;
  error: string | undefined;
  private session: ChainSession | undefined;
  private loading = false;

  static override styles = css`
    :host { display: block; }
    section { margin: 1.25rem 0; }
    h2 { font-size: 1.15rem; margin: 0 0 0.5rem; }
    .note { color: #777; }
    .error { color: #c22; }
  `;

  override connectedCallback(): void {
    super.connectedCallback();
    void this.load();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.session?.stop();
    this.session = undefined;
  }

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('store')) void this.load();
    // A new or imported identity: read its figures now rather than at the next poll.
    if (changed.has('address')) void this.session?.poll();
  }

  private async load(): Promise<void> {
    if (this.loading || this.session || !this.store) return;
    this.loading = true;
    try {
      this.status ??= await fetchChainStatus();
      if (!this.status.enabled) return;
      const [{ ChainSession }] = await Promise.all([import('../chain/chain-session.js'), import('./dao-chain-panel.js'), import('./proposals-panel.js'), import('./treasury-panel.js')]);
      if (!this.isConnected) return;
      const session = (this.session = new ChainSession(this.status.config, this.store));
      session.onChange(() => (this.snapshot = session.snapshot));
      this.snapshot = session.snapshot;
      session.start();
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    } finally {
      this.loading = false;
    }
  }

  override render() {
    if (this.error) return html`<p class="error" data-chain="error" role="alert">On-chain figures are unavailable: ${this.error}</p>`;
    if (!this.status) return html``;
    if (!this.status.enabled) return html`<p class="note" data-chain="disabled">This pool settles on no chain yet: ${this.status.reason}.</p>`;
    return html`
      <section aria-labelledby="onchain" data-chain="enabled">
        <h2 id="onchain">Your work on-chain</h2>
        <dao-chain-panel .session=${this.session} .snapshot=${this.snapshot} .config=${this.status.config}></dao-chain-panel>
      </section>
      <section aria-labelledby="proposals">
        <h2 id="proposals">Proposals</h2>
        <dao-proposals-panel .session=${this.session} .snapshot=${this.snapshot} .config=${this.status.config}></dao-proposals-panel>
      </section>
      <section aria-labelledby="treasury">
        <h2 id="treasury">Treasury</h2>
        <dao-treasury-panel .snapshot=${this.snapshot} .config=${this.status.config}></dao-treasury-panel>
      </section>
    `;
  }
}

customElements.define('dao-chain-section', ChainSection);
