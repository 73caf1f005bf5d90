// npm run bench:browser [-- --runs N] [--seconds S] [--json]
// The browser miner's figures, measured in one run in headless Chromium (test/helpers/browser.ts)
// against the built app (build/web) served by a real gateway on loopback:
//  1. click-to-first-hash: from the click on "Start contributing" to the first scanned batch back on
//     the page's main thread (a Comlink `scan` reply from the engine worker), in the page's own clock;
//     also the worker's creation, the first `scan` call sent, and the first non-zero hash rate shown;
//  2. hash rate per worker: bench.html's wasm-simd x1 and wasm x1 rows beside Node's single-thread
//     rate for the same WASM builds (build/wasm, the files Vite copies into build/web), measured
//     before and after the browser;
//  3. main-thread long tasks (> 50 ms, PerformanceObserver 'longtask') from the click on, while
//     mining on one worker for S seconds, in each of N fresh pages;
//  4. the widget loader's gzip size (build/web/widget.js);
//  5. the app's initial JS, gzip: index.html's module script and modulepreload chunks (and anything
//     they import statically); workers, CSS and .wasm excluded.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { integerOption, parseOptions } from '../cli/args.js';
import { openWasmEngine, type WasmBuild } from '../cli/wasm-node.js';
import { packageRoot } from '../server/package-root.js';
import { measureHashRate } from '../web/miner/measure-rate.js';
import { launchChromium } from '../test/helpers/browser.js';
import { startTestGateway } from '../test/helpers/gateway.js';
import { PROBE_SCRIPT, READ_PROBE, type ProbeReadout } from './bench-browser-probe.js';
import { initialJs, sizeOf, type InitialJs, type SizeFile } from './bench-browser-sizes.js';

const NODE_SECONDS = 2;
const NODE_CHUNK = 1 << 18;
const LONG_TASK_MS = 50;

interface StartRun {
  workerCreatedMs: number | null;
  firstScanSentMs: number | null;
  firstScanReplyMs: number | null;
  firstScanned: number | null;
  firstRateShownMs: number | null;
  longTasks: { startMs: number; durationMs: number }[];
  longTasksBeforeClick: number;
}

interface RateRow {
  build: WasmBuild;
  browser: number;
  nodeBefore: number;
  nodeAfter: number;
  node: number;
  ratio: number;
}

interface Report {
  chromium: string;
  cpus: number;
  sameWasmBytes: Record<WasmBuild, boolean>;
  cpuPercent: string | null;
  longtaskSupported: boolean;
  starts: StartRun[];
  firstHashMedianMs: number | null;
  rates: RateRow[];
  longTasksWhileMining: number;
  longestTaskMs: number;
  widget: SizeFile;
  initial: InitialJs;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? null : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const since = (t: number | null, from: number) => (t === null ? null : t - from);

async function nodeRate(build: WasmBuild): Promise<number> {
  const engine = openWasmEngine(build);
  try {
    return await measureHashRate(engine, NODE_SECONDS, NODE_CHUNK);
  } finally {
    engine.dispose();
  }
}

/** Whether Vite's copy of each build in build/web/assets has the same bytes as build/wasm's. */
function sameWasmBytes(root: string): Record<WasmBuild, boolean> {
  const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
  const assets = readdirSync(join(root, 'build', 'web', 'assets'));
  const same = (build: WasmBuild) => {
    const copy = assets.find((f) => f.startsWith(`sha256d-${build}-`) && f.endsWith('.wasm'));
    return copy !== undefined && digest(join(root, 'build', 'web', 'assets', copy)) === digest(join(root, 'build', 'wasm', `sha256d-${build}.wasm`));
  };
  return { scalar: same('scalar'), simd: same('simd') };
}

/** bench.html, one row per engine: runs until the wasm-simd x1 row is done, then stops. */
async function browserRates(browser: Browser, url: string, errors: string[]): Promise<Record<WasmBuild, number>> {
  const page = await browser.newPage();
  page.on('pageerror', (e) => errors.push(`bench.html: ${e.message}`));
  try {
    await page.goto(`${url}bench.html?seconds=${NODE_SECONDS}`);
    await page.getByRole('button', { name: 'Run benchmark' }).click();
    const row = (engine: string) => page.locator(`tr[data-engine="${engine}"][data-workers="1"]`);
    await row('wasm-simd').and(page.locator('[data-status="done"]')).waitFor({ timeout: 120_000 });
    const read = async (engine: string) => {
      const status = await row(engine).getAttribute('data-status');
      if (status !== 'done') throw new Error(`bench.html: the ${engine} x1 row is ${status}`);
      return Number(await row(engine).locator('[data-hashes-per-second]').getAttribute('data-hashes-per-second'));
    };
    const rates = { scalar: await read('wasm'), simd: await read('wasm-simd') };
    await page.getByRole('button', { name: 'Stop' }).click().catch(() => {});
    return rates;
  } finally {
    await page.close();
  }
}

/** The app in a fresh context: one thread, click "Start contributing", mine for `seconds`, stop. */
async function startAndMine(browser: Browser, url: string, seconds: number, errors: string[]): Promise<{ run: StartRun; probe: ProbeReadout; cpuPercent: string | null }> {
  const page: Page = await browser.newPage();
  page.on('pageerror', (e) => errors.push(`app: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`app console: ${m.text()}`);
  });
  try {
    await page.addInitScript(PROBE_SCRIPT);
    await page.goto(url);
    await page.getByRole('button', { name: 'Start contributing' }).waitFor();
    await page.getByLabel('Threads').fill('1');
    await page.getByLabel('Threads').dispatchEvent('change');
    const cpuPercent = await page.getByLabel('CPU use').inputValue().catch(() => null);
    await page.waitForLoadState('networkidle');
    await sleep(500);
    await page.getByRole('button', { name: 'Start contributing' }).click();
    await sleep(seconds * 1000);
    const probe = await page.evaluate<ProbeReadout>(READ_PROBE);
    await page.getByRole('button', { name: 'Stop' }).click();
    const click = probe.clickAt ?? NaN;
    const after = probe.longtasks.filter((t) => t.startTime >= click && t.duration > LONG_TASK_MS);
    return {
      cpuPercent,
      probe,
      run: {
        workerCreatedMs: since(probe.workersAt[0] ?? null, click),
        firstScanSentMs: since(probe.firstScanSentAt, click),
        firstScanReplyMs: since(probe.firstScanReplyAt, click),
        firstScanned: probe.firstScanned,
        firstRateShownMs: since(probe.firstRateShownAt, click),
        longTasks: after.map((t) => ({ startMs: t.startTime - click, durationMs: t.duration })),
        longTasksBeforeClick: probe.longtasks.filter((t) => t.startTime < click).length,
      },
    };
  } finally {
    await page.close();
  }
}

const ms = (x: number | null) => (x === null ? 'n/a' : `${x.toFixed(0)} ms`);
const mhs = (x: number) => `${(x / 1e6).toFixed(2)} MH/s`;
const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;
const met = (ok: boolean) => (ok ? 'yes' : 'NO');

function printReport(r: Report, runs: number, seconds: number): void {
  const lines: string[] = [];
  lines.push(`Headless ${r.chromium}, ${r.cpus} CPUs; the app on one worker at CPU use ${r.cpuPercent ?? '?'}%; ${runs} fresh page(s), ${seconds} s each.`);
  lines.push('');
  lines.push('| figure | measured | target | met |');
  lines.push('| --- | ---: | ---: | :---: |');
  lines.push(`| click on "Start contributing" to the first hashed batch back on the page (median of ${runs}) | ${ms(r.firstHashMedianMs)} | < 1 s | ${met(r.firstHashMedianMs !== null && r.firstHashMedianMs < 1000)} |`);
  for (const row of r.rates) {
    const name = row.build === 'simd' ? 'wasm-simd' : 'wasm (scalar)';
    lines.push(`| ${name} per worker in Chromium vs Node's one thread (${mhs(row.browser)} vs ${mhs(row.node)}) | ${(row.ratio * 100).toFixed(0)}% | >= 90% | ${met(row.ratio >= 0.9)} |`);
  }
  const startup = r.starts.reduce((n, s) => n + s.longTasks.filter((t) => t.startMs < 1000).length, 0);
  const lt = r.longtaskSupported
    ? `${r.longTasksWhileMining}${r.longTasksWhileMining ? ` (${startup} in the first second; longest ${r.longestTaskMs.toFixed(0)} ms)` : ''}`
    : 'unsupported';
  lines.push(`| main-thread long tasks > 50 ms after the click, mining ${runs} x ${seconds} s | ${lt} | none | ${met(r.longtaskSupported && r.longTasksWhileMining === 0)} |`);
  lines.push(`| widget loader (widget.js), gzip | ${kb(r.widget.gzipBytes)} | < 10 kB | ${met(r.widget.gzipBytes < 10_000)} |`);
  lines.push(`| app initial JS (${r.initial.files.length} files), gzip, WASM and workers excluded | ${kb(r.initial.gzipBytes)} | < 150 kB | ${met(r.initial.gzipBytes < 150_000)} |`);
  lines.push('');
  lines.push('Click to first hash, each run (page clock, from the click):');
  lines.push('| run | Worker created | first scan sent | first batch back | nonces in it | first rate shown |');
  lines.push('| ---: | ---: | ---: | ---: | ---: | ---: |');
  r.starts.forEach((s, i) =>
    lines.push(`| ${i + 1} | ${ms(s.workerCreatedMs)} | ${ms(s.firstScanSentMs)} | ${ms(s.firstScanReplyMs)} | ${s.firstScanned ?? 'n/a'} | ${ms(s.firstRateShownMs)} |`),
  );
  lines.push('');
  for (const row of r.rates)
    lines.push(`Node ${row.build}: ${mhs(row.nodeBefore)} before the browser, ${mhs(row.nodeAfter)} after (mean ${mhs(row.node)}); Chromium ${mhs(row.browser)}.`);
  lines.push(`build/web's WASM files are build/wasm's bytes: scalar ${r.sameWasmBytes.scalar}, simd ${r.sameWasmBytes.simd}.`);
  lines.push(`Initial JS: ${r.initial.files.map((f) => `${f.file} ${kb(f.gzipBytes)}`).join(', ')}; CSS ${kb(r.initial.cssGzipBytes)} (not counted).`);
  if (r.initial.unlisted.length > 0) lines.push(`Statically imported but not modulepreloaded: ${r.initial.unlisted.join(', ')}.`);
  const before = r.starts.reduce((n, s) => n + s.longTasksBeforeClick, 0);
  if (before > 0) lines.push(`Long tasks before the click (page load, not counted): ${before}.`);
  for (const [i, s] of r.starts.entries())
    for (const t of s.longTasks) lines.push(`Long task in run ${i + 1}: ${t.durationMs.toFixed(0)} ms at +${t.startMs.toFixed(0)} ms.`);
  console.log(lines.join('\n'));
}

async function main(argv: string[]): Promise<void> {
  const opts = parseOptions(argv, { runs: { type: 'string' }, seconds: { type: 'string' }, json: { type: 'boolean' } });
  const runs = integerOption(opts.runs, 'runs', 3, 1, 20);
  const seconds = integerOption(opts.seconds, 'seconds', 8, 2, 120);
  const log = opts.json ? () => {} : (line: string) => console.error(line);
  const root = packageRoot();
  const webRoot = join(root, 'build', 'web');
  const errors: string[] = [];

  log('Node, one thread: wasm-simd, wasm ...');
  const nodeBefore = { simd: await nodeRate('simd'), scalar: await nodeRate('scalar') };

  // Difficulty 1e-4 as in test/app.browser.test.ts: a share every few tenths of a second on one
  // worker, far more often than a real pool asks, so the main thread has more to do, not less.
  const gateway = await startTestGateway({ startDifficulty: 1e-4 });
  const browser = await launchChromium();
  let report: Report;
  try {
    const url = gateway.httpUrl.endsWith('/') ? gateway.httpUrl : `${gateway.httpUrl}/`;
    log('Chromium, bench.html: wasm x1, wasm-simd x1 ...');
    const inBrowser = await browserRates(browser, url, errors);
    log('Node, one thread, again ...');
    const nodeAfter = { simd: await nodeRate('simd'), scalar: await nodeRate('scalar') };

    const starts: StartRun[] = [];
    let cpuPercent: string | null = null;
    let longtaskSupported = true;
    for (let i = 0; i < runs; i++) {
      log(`Chromium, the app: start, mine ${seconds} s on one worker (${i + 1}/${runs}) ...`);
      const result = await startAndMine(browser, url, seconds, errors);
      starts.push(result.run);
      cpuPercent = result.cpuPercent;
      longtaskSupported &&= result.probe.longtaskSupported;
    }
    const all = starts.flatMap((s) => s.longTasks);
    const firsts = starts.flatMap((s) => (s.firstScanReplyMs === null ? [] : [s.firstScanReplyMs]));
    report = {
      chromium: `Chromium ${browser.version()}`,
      cpus: (await import('node:os')).availableParallelism(),
      sameWasmBytes: sameWasmBytes(root),
      cpuPercent,
      longtaskSupported,
      starts,
      firstHashMedianMs: firsts.length === runs ? median(firsts) : null,
      rates: (['simd', 'scalar'] as const).map((build) => {
        const node = (nodeBefore[build] + nodeAfter[build]) / 2;
        return { build, browser: inBrowser[build], nodeBefore: nodeBefore[build], nodeAfter: nodeAfter[build], node, ratio: inBrowser[build] / node };
      }),
      longTasksWhileMining: all.length,
      longestTaskMs: Math.max(0, ...all.map((t) => t.durationMs)),
      widget: sizeOf(webRoot, 'widget.js'),
      initial: initialJs(webRoot),
    };
  } finally {
    await browser.close();
    await gateway.close();
  }
  if (opts.json) console.log(JSON.stringify({ ...report, errors }, null, 2));
  else {
    printReport(report, runs, seconds);
    if (errors.length > 0) console.log(`\nPage errors: ${errors.join('; ')}`);
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
