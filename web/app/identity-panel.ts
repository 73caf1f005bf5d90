import { LitElement, css, html } from 'lit';
import { localIdentityFromKey } from '../store/identity.js';
import type { MemberStore } from '../store/member-store.js';
import './confirm-dialog.js';
import type { ConfirmDialog } from './confirm-dialog.js';

/**
 * The member address, and the key behind it: export (after a warning, in a dialog) and import
 * (a pasted key, checked by the store, which refuses garbage without echoing it).
 */
const ORIGIN_WORDS = {
  created: 'a key created in this browser and kept on this device only',
  imported: 'a key you imported, kept on this device only',
  wallet: 'an address from your wallet: the key stays in the wallet',
} as const;

export class IdentityPanel extends LitElement {
  static override properties = {
    store: { attribute: false },
    address: {},
    /** While mining the address is the pool username: importing waits until Stop. */
    busy: { type: Boolean },
    exportedKey: { state: true },
    error: { state: true },
    origin: { state: true },
  };
  /** Where the shown key came from, read from the store whenever the address changes. */
  origin: 'created' | 'imported' | 'wallet' | undefined;
  store: MemberStore | undefined;
  address: string | undefined;
  busy = false;
  exportedKey: string | undefined;
  error: string | undefined;

  override updated(changed: Map<string, unknown>): void {
    if (changed.has('address') || changed.has('store')) void this.readOrigin();
  }

  private async readOrigin(): Promise<void> {
    const identity = await this.store?.getIdentity();
    if (!identity || identity.address !== this.address) return;
    this.origin = identity.source === 'injected' ? 'wallet' : identity.imported ? 'imported' : 'created';
  }

  static override styles = css`
    :host { display: block; }
    .row { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1rem; margin: 0.5rem 0; }
    button { font: inherit; padding: 0.4rem 0.9rem; }
    input { font: inherit; width: min(32rem, 90vw); }
    code { overflow-wrap: anywhere; }
    .warning { color: #a40; font-weight: 600; }
    .error { color: #c22; }
    dialog { max-width: min(40rem, 95vw); }
  `;

  override render() {
    return html`
      <p data-address=${this.address ?? ''}>
        Member address:
        ${this.address
          ? html`<code>${this.address}</code><br /><small data-key-origin=${this.origin ?? ''}>${ORIGIN_WORDS[this.origin ?? 'created']}</small>`
          : 'created when you start'}
      </p>
      <div class="row">
        <button type="button" ?disabled=${!this.address} @click=${this.openExport}>Export key</button>
      </div>
      <div class="row">
        <label for="import-key">Import a key</label>
        <input id="import-key" type="password" autocomplete="off" spellcheck="false" placeholder="0x + 64 hex digits" ?disabled=${this.busy} />
        <button type="button" ?disabled=${this.busy} @click=${this.importKey}>Import key</button>
        <small>${this.busy ? 'stop mining to change the key' : 'replaces the key on this device: export it first'}</small>
      </div>
      ${this.error ? html`<p class="error" role="alert" data-identity-error>${this.error}</p>` : ''}
      <dialog id="export" aria-labelledby="export-title" @close=${() => (this.exportedKey = undefined)}>
        <h3 id="export-title">Export your key</h3>
        <p class="warning">
          Anyone who sees this key controls your member address and everything credited to it. Do not share it or paste it
          into a site; keep it where you keep passwords.
        </p>
        ${this.exportedKey
          ? html`<p><code data-exported-key=${this.exportedKey}>${this.exportedKey}</code></p>`
          : html`<button type="button" @click=${this.revealKey}>Show my key</button>`}
        <button type="button" @click=${this.closeExport}>Close</button>
      </dialog>
      <dao-confirm-dialog></dao-confirm-dialog>
    `;
  }

  private get dialog(): HTMLDialogElement | null | undefined {
    return this.renderRoot.querySelector<HTMLDialogElement>('#export');
  }

  private openExport(): void {
    this.error = undefined;
    this.exportedKey = undefined;
    this.dialog?.showModal();
  }

  private closeExport(): void {
    this.exportedKey = undefined;
    this.dialog?.close();
  }

  private async revealKey(): Promise<void> {
    try {
      this.exportedKey = await this.store?.exportIdentity();
    } catch (err) {
      this.closeExport();
      this.error = err instanceof Error ? err.message : String(err);
    }
  }

  private async importKey(): Promise<void> {
    const input = this.renderRoot.querySelector<HTMLInputElement>('#import-key');
    if (!input || !this.store) return;
    try {
      // Checked here first, so garbage is refused before any question, and the question names the new address.
      const next = localIdentityFromKey(input.value, Date.now()).address;
      const confirmed = await this.renderRoot.querySelector<ConfirmDialog>('dao-confirm-dialog')?.ask({
        title: 'Replace your key?',
        lines: this.address
          ? [
              `Replace the key of ${this.address} (its unclaimed rewards stay with that key) with ${next}.`,
              'Export the current key first if you may want those rewards: this device forgets it.',
            ]
          : [`Use the key of ${next} as this device's member key.`],
      });
      if (!confirmed) return;
      const identity = await this.store.importIdentity(input.value, { replace: true });
      input.value = '';
      this.error = undefined;
      this.dispatchEvent(new CustomEvent('identity-change', { detail: identity.address, bubbles: true, composed: true }));
    } catch (err) {
      this.error = err instanceof Error ? err.message : String(err);
    }
  }
}

customElements.define('dao-identity-panel', IdentityPanel);
