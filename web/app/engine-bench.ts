import { LitElement, css, html } from 'lit';
import type { HashEngine } from '../miner/engine.js';
import { GpuUnavailable, openBrowserGpuEngine } from '../miner/browser-gpu.js';
import { measureHashRate, verifyWithGenesis } from '../miner/measure-rate.js';
import { wasmSimdSupported } from '../miner/wasm-support.js';
import { openWorkerPool } from '../miner/worker-engine.js';
import { formatRate } from '../miner/format-rate.js';

interface Row {
  engine: string;
  workers: number;
  status: 'waiting' | 'running' | 'done' | 'failed' | 'unavailable' | 'stopped';
  verified?: boolean;
  hashesPerSecond?: number;
  note?: string;
}

/** Seconds each row is timed; `?seconds=0.5` shortens a run (the browser tests use it). */
const SECONDS_PER_ROW = Number(new URLSearchParams(location.search).get('seconds')) || 2;

/**
 * The live in-browser benchmark: each engine is first checked (it must find the genesis nonce),
 * then timed. Workers and GPU work start only after the click, and Stop ends them at once.
 */
export class EngineBench extends LitElement {
  static override properties = { rows: { state: true }, running: { state: true } };
  rows: Row[] = [];
  running = false;
  private engine: HashEngine | undefined;
  private stopRequested = false;

  static override styles = css`
    button { font: inherit; padding: 0.5rem 1rem; margin-right: 0.5rem; }
    table { border-collapse: collapse; margin-top: 1rem; width: 100%; }
    th, td { text-align: left; padding: 0.25rem 0.5rem; border-bottom: 1px solid #8884; }
    td.rate { font-variant-numeric: tabular-nums; text-align: right; }
  `;

  override render() {
    return html`
      <button @click=${this.run} ?disabled=${this.running}>Run benchmark</button>
      <button @click=${this.stop} ?disabled=${!this.running}>Stop</button>
      <table aria-live="polite">
        <thead><tr><th>engine</th><th>workers</th><th>check</th><th>hash rate</th></tr></thead>
        <tbody>
          ${this.rows.map(
            (r) => html`<tr data-engine=${r.engine} data-workers=${r.workers} data-status=${r.status}>
              <td>${r.engine}${r.note && r.status !== 'failed' && r.status !== 'unavailable' ? html`<br /><small>${r.note}</small>` : ''}</td><td>${r.workers}</td>
              <td>${r.verified === undefined ? '' : r.verified ? 'finds the genesis nonce' : 'WRONG RESULT'}</td>
              <td class="rate" data-hashes-per-second=${r.hashesPerSecond ?? ''}>${rateCell(r)}</td>
            </tr>`,
          )}
        </tbody>
      </table>
    `;
  }

  private async run(): Promise<void> {
    this.running = true;
    this.stopRequested = false;
    const threads = Math.max(1, navigator.hardwareConcurrency || 1);
    const builds = wasmSimdSupported() ? (['scalar', 'simd'] as const) : (['scalar'] as const);
    this.rows = [
      ...builds.flatMap((b) => [...new Set([1, threads])].map((n) => ({ engine: b === 'simd' ? 'wasm-simd' : 'wasm', workers: n, status: 'waiting' as const }))),
      { engine: 'webgpu', workers: 1, status: 'waiting' },
    ];
    for (const row of this.rows) {
      if (this.stopRequested) {
        this.setRow(row, { status: 'stopped' });
        continue;
      }
      this.setRow(row, { status: 'running' });
      try {
        this.engine = row.engine === 'webgpu' ? await openBrowserGpuEngine({ batchSize: 1 << 16 }) : await openWorkerPool(row.engine === 'wasm-simd' ? 'simd' : 'scalar', row.workers);
        const verified = await verifyWithGenesis(this.engine);
        this.setRow(row, { verified, ...(this.engine.hardware ? { note: this.engine.hardware } : {}) });
        const chunk = row.engine === 'webgpu' ? 1 << 16 : (1 << 16) * row.workers;
        const hashesPerSecond = await measureHashRate(this.engine, SECONDS_PER_ROW, chunk, () => this.stopRequested);
        this.setRow(row, { status: this.stopRequested ? 'stopped' : 'done', hashesPerSecond });
      } catch (err) {
        const unavailable = err instanceof GpuUnavailable;
        this.setRow(row, { status: unavailable ? 'unavailable' : 'failed', note: (err as Error).message });
      } finally {
        this.engine?.dispose();
        this.engine = undefined;
      }
    }
    this.running = false;
  }

  private stop(): void {
    this.stopRequested = true;
    // Terminating the workers ends the hashing now, not at the end of the current call.
    this.engine?.dispose();
  }

  private setRow(row: Row, change: Partial<Row>): void {
    Object.assign(row, change);
    this.rows = [...this.rows];
  }
}

function rateCell(row: Row): string {
  if (row.status === 'unavailable' || row.status === 'failed') return `${row.status}: ${row.note}`;
  if (row.hashesPerSecond === undefined) return row.status;
  return formatRate(row.hashesPerSecond);
}

customElements.define('dao-engine-bench', EngineBench);
