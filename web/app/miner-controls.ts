import { LitElement, css, html } from 'lit';
import type { MinerSettings } from '../store/schema.js';
import type { ContributorState } from '../contributor/session.js';

/**
 * Start / Stop, the mining indicator, the CPU-use duty cycle, the thread count, the GPU switch and,
 * on a phone, the phone's own opt-in.
 */
export class MinerControls extends LitElement {
  static override properties = {
    state: {},
    cpuPercent: { type: Number },
    threads: { type: Number },
    maxThreads: { type: Number },
    measuredCpuShare: { attribute: false },
    useGpu: { type: Boolean },
    gpu: {},
    gpuNote: {},
    paused: {},
    runningPercent: { type: Number },
    pressure: {},
    mobile: { type: Boolean },
    mobileOptIn: { type: Boolean },
  };
  state: ContributorState = 'idle';
  cpuPercent = 50;
  threads = 1;
  maxThreads = 1;
  measuredCpuShare: number | undefined;
  useGpu = false;
  /** The adapter mining now (engine.hardware). */
  gpu: string | undefined;
  gpuNote: string | undefined;
  /** Why mining is paused (battery, Data Saver, hidden tab); it resumes when that clears. */
  paused: string | undefined;
  /** The duty cycle the engines run at now: below cpuPercent when a partner or the device's pressure lowers it. */
  runningPercent: number | undefined;
  /** The CPU pressure the browser reports (Compute Pressure API; Chromium only). */
  pressure: string | undefined;
  mobile = false;
  mobileOptIn = false;

  static override styles = css`
    :host { display: block; }
    .row { display: flex; flex-wrap: wrap; align-items: center; gap: 0.5rem 1rem; margin: 0.5rem 0; }
    button { font: inherit; padding: 0.5rem 1.1rem; min-height: 2.5rem; }
    button.start { font-weight: 600; }
    .indicator { display: inline-flex; align-items: center; gap: 0.4rem; margin: 0; }
    .dot { width: 0.75rem; height: 0.75rem; border-radius: 50%; background: #888; }
    .indicator[data-mining='true'] .dot { background: #2a2; animation: pulse 1s ease-in-out infinite alternate; }
    @keyframes pulse { to { opacity: 0.35; } }
    @media (prefers-reduced-motion: reduce) { .indicator[data-mining='true'] .dot { animation: none; } }
    input[type='range'] { width: min(16rem, 60vw); }
    input[type='number'] { width: 4rem; font: inherit; }
    output { font-variant-numeric: tabular-nums; }
  `;

  override render() {
    const paused = this.state === 'paused';
    const mining = this.state === 'mining' || this.state === 'starting' || paused;
    const measured = this.measuredCpuShare;
    const needsOptIn = this.mobile && !this.mobileOptIn;
    return html`
      <div class="row">
        <p class="indicator" role="status" data-mining=${String(mining)}>
          <span class="dot" aria-hidden="true"></span>
          ${paused
            ? html`<span data-paused=${this.paused ?? ''}>Paused: ${this.paused}. Mining resumes by itself when that changes.</span>`
            : this.state === 'mining'
            ? `Mining on ${this.threads} ${this.threads === 1 ? 'thread' : 'threads'}${this.gpu ? ' and the GPU' : ''}`
            : this.state === 'starting'
              ? 'Starting…'
              : this.state === 'stopping'
                ? 'Stopping…'
                : 'Not mining'}
        </p>
        ${mining
          ? html`<button type="button" class="stop" @click=${() => this.fire('stop')}>Stop</button>`
          : html`<button type="button" class="start" ?disabled=${this.state === 'stopping' || needsOptIn} @click=${() => this.fire('start')}>Start contributing</button>`}
      </div>
      ${this.mobile
        ? html`<div class="row">
            <label><input id="mobile-opt-in" type="checkbox" .checked=${this.mobileOptIn} ?disabled=${mining} @change=${this.mobileOptInChanged} />
              I understand this runs on my phone</label>
            <small>(it warms the phone and uses its battery)</small>
          </div>`
        : ''}
      <div class="row">
        <label for="cpu">CPU use</label>
        <input id="cpu" type="range" min="10" max="100" step="10" .value=${String(this.cpuPercent)}
          aria-valuetext=${`${this.cpuPercent}%`} @input=${this.cpuChanged} />
        <output for="cpu" data-cpu-percent=${this.cpuPercent}>${this.cpuPercent}%</output>
        <output data-measured-cpu=${measured === undefined ? '' : measured.toFixed(3)} aria-label="Measured CPU share">
          measured: ${measured === undefined ? '–' : `${Math.round(measured * 100)}%`} per thread
        </output>
        ${this.runningPercent !== undefined && this.runningPercent < this.cpuPercent
          ? html`<small data-running-percent=${this.runningPercent} data-pressure=${this.pressure ?? ''}>running at ${this.runningPercent}%${
              this.pressure === 'serious' ? ': the browser reports the device under serious load' : ''
            }</small>`
          : ''}
      </div>
      <div class="row">
        <label for="threads">Threads</label>
        <input id="threads" type="number" min="1" max=${this.maxThreads} .value=${String(this.threads)} ?disabled=${mining}
          @change=${this.threadsChanged} />
        <small>of ${this.maxThreads} cores${mining ? ' (stop to change)' : ''}</small>
      </div>
      <div class="row">
        <label><input id="gpu" type="checkbox" .checked=${this.useGpu} ?disabled=${mining} @change=${this.gpuChanged} /> Use GPU</label>
        <small data-gpu=${this.gpu ?? ''}>${this.gpu
          ? `mining on ${this.gpu} (WebGPU)`
          : this.gpuNote
            ? this.gpuNote
            : 'WebGPU, in short dispatches at the CPU-use duty cycle'}</small>
      </div>
    `;
  }

  private cpuChanged(event: Event): void {
    const cpuPercent = Number((event.target as HTMLInputElement).value);
    this.cpuPercent = cpuPercent;
    this.fire('settings-change', { cpuPercent });
  }

  private threadsChanged(event: Event): void {
    const threads = Number((event.target as HTMLInputElement).value);
    if (Number.isFinite(threads)) this.fire('settings-change', { threads });
  }

  private gpuChanged(event: Event): void {
    this.fire('settings-change', { useGpu: (event.target as HTMLInputElement).checked });
  }

  private mobileOptInChanged(event: Event): void {
    this.mobileOptIn = (event.target as HTMLInputElement).checked;
    this.fire('mobile-opt-in', { checked: this.mobileOptIn });
  }

  private fire(name: string, detail?: Partial<MinerSettings> | { checked: boolean }): void {
    this.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  }
}

customElements.define('dao-miner-controls', MinerControls);
