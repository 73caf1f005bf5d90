// The pool page's charts: uPlot, in a chunk of its own that the page imports only once it has
// data to draw, so neither the app nor the pool page's first paint waits for it.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  /** One value per x. */
  values: number[];
  /** How the axis and the legend show a value. */
  format: (value: number) => string;
  color: string;
}

export interface ChartSpec {
  /** x values: seconds since 1970 for time charts, else plain numbers (epochs). */
  xs: number[];
  time: boolean;
  series: ChartSeries[];
}

/** Draws the chart into `host` (replacing what was there), one y axis per series. */
export function drawChart(host: HTMLElement, spec: ChartSpec): uPlot {
  host.replaceChildren();
  const width = Math.max(280, host.clientWidth || 600);
  const options: uPlot.Options = {
    width,
    height: 200,
    // y from 0: a flat line of equal epochs sits at its value, not mid-chart.
    scales: { x: { time: spec.time }, ...Object.fromEntries(spec.series.map((_s, i) => [`y${i}`, { range: (_u: uPlot, _min: number, max: number): uPlot.Range.MinMax => [0, max > 0 ? max * 1.1 : 1] }])) },
    series: [{ label: spec.time ? 'time' : 'epoch' }, ...spec.series.map((s, i) => ({ label: s.label, stroke: s.color, width: 2, scale: `y${i}`, value: (_u: uPlot, v: number | null) => (v === null ? '—' : s.format(v)) }))],
    axes: [
      spec.time ? {} : { values: (_u: uPlot, ticks: number[]) => ticks.map((t) => (Number.isInteger(t) ? String(t) : '')) },
      ...spec.series.map((s, i) => ({ scale: `y${i}`, side: i === 0 ? 3 : 1, size: 110, stroke: s.color, grid: { show: i === 0 }, values: (_u: uPlot, ticks: number[]) => ticks.map((t) => s.format(t)) })),
    ],
  };
  return new uPlot(options, [spec.xs, ...spec.series.map((s) => s.values)], host);
}
