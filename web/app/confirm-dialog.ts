import { LitElement, css, html } from 'lit';

/** What a confirmation names: a title, and the lines that say exactly what is signed or replaced. */
export interface ConfirmRequest {
  title: string;
  lines: string[];
}

/**
 * A modal native <dialog> with Confirm and Cancel. Signing a vote, a claim or a proposal, and
 * replacing the member key, each go through `ask()` first, so one stray click (or a click a page
 * tricked the member into) signs nothing: the dialog names what will be signed, by which address.
 * Cancel, Escape and a second ask() while one is open all answer false.
 */
export class ConfirmDialog extends LitElement {
  static override properties = { request: { state: true } };
  request: ConfirmRequest | undefined;
  private answer: ((confirmed: boolean) => void) | undefined;

  static override styles = css`
    dialog { max-width: min(36rem, 95vw); }
    h3 { margin: 0 0 0.5rem; font-size: 1.05rem; }
    p { margin: 0.25rem 0; overflow-wrap: anywhere; }
    .row { display: flex; gap: 0.5rem; justify-content: flex-end; margin-top: 0.75rem; }
    button { font: inherit; padding: 0.4rem 0.9rem; }
  `;

  override render() {
    const r = this.request;
    return html`<dialog aria-labelledby="confirm-title" @close=${this.onClose}>
      <form method="dialog">
        <h3 id="confirm-title">${r?.title ?? ''}</h3>
        ${r?.lines.map((line) => html`<p data-confirm-line>${line}</p>`)}
        <div class="row">
          <button value="cancel" autofocus>Cancel</button>
          <button value="confirm">Confirm</button>
        </div>
      </form>
    </dialog>`;
  }

  /** Shows `request` and resolves true on Confirm, false on anything else. */
  async ask(request: ConfirmRequest): Promise<boolean> {
    this.settle(false);
    this.request = request;
    await this.updateComplete;
    const dialog = this.renderRoot.querySelector('dialog')!;
    dialog.returnValue = '';
    if (!dialog.open) dialog.showModal();
    return new Promise<boolean>((resolve) => (this.answer = resolve));
  }

  private onClose = (event: Event): void => {
    this.settle((event.target as HTMLDialogElement).returnValue === 'confirm');
  };

  private settle(confirmed: boolean): void {
    const answer = this.answer;
    this.answer = undefined;
    answer?.(confirmed);
  }
}

customElements.define('dao-confirm-dialog', ConfirmDialog);

