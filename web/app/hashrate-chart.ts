import { LitElement, css, html, svg } from 'lit';
import type { RatePoint } from './rate-history.js';

/** A small SVG sparkline of the hash rate over the last minute. */
export class HashrateChart extends LitElement {
  static override properties = { points: { attribute: false } };
  points: RatePoint[] = [];

  static override styles = css`
    svg { width: 100%; height: 3rem; display: block; }
    polyline { fill: none; stroke: currentColor; stroke-width: 1.5; vector-effect: non-scaling-stroke; }
    line { stroke: #8886; vector-effect: non-scaling-stroke; }
  `;

  override render() {
    const width = 60;
    const height = 20;
    const last = this.points.at(-1)?.atMs ?? 0;
    const max = Math.max(1, ...this.points.map((p) => p.hashesPerSecond));
    const coords = this.points.map((p) => `${(width - (last - p.atMs) / 1000).toFixed(2)},${(height - (p.hashesPerSecond / max) * (height - 1)).toFixed(2)}`);
    return html`<svg viewBox="0 0 ${width} ${height}" preserveAspectRatio="none" role="img" aria-label="Hash rate over the last minute">
      ${svg`<line x1="0" y1=${height} x2=${width} y2=${height}></line>`}
      ${coords.length > 1 ? svg`<polyline points=${coords.join(' ')}></polyline>` : ''}
    </svg>`;
  }
}

customElements.define('dao-hashrate-chart', HashrateChart);
