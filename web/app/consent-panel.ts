import { LitElement, css, html } from 'lit';
import type { Consent } from '../store/schema.js';

/** What the contributor agreed to, and the way to take it back. */
export class ConsentPanel extends LitElement {
  static override properties = { consent: { attribute: false } };
  consent: Consent | undefined;

  static override styles = css`
    :host { display: block; }
    button { font: inherit; padding: 0.4rem 0.9rem; }
    p { margin: 0.25rem 0; }
  `;

  override render() {
    const c = this.consent;
    if (!c?.granted) {
      return html`<p data-consent="none">
        Nothing runs on your device until you click <strong>Start contributing</strong>. That click is your consent; it is
        remembered on this device only, and you can withdraw it here at any time.
      </p>`;
    }
    return html`<p data-consent="granted">
        You agreed to contribute on ${new Date(c.grantedAtMs).toLocaleString()}. Mining still only runs while you have it started.
      </p>
      <button type="button" @click=${this.withdraw}>Withdraw consent</button>`;
  }

  private withdraw(): void {
    this.dispatchEvent(new CustomEvent('withdraw', { bubbles: true, composed: true }));
  }
}

customElements.define('dao-consent-panel', ConsentPanel);
