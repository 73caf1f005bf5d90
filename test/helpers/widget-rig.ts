// The partner-widget rig for the cross-site browser tests: the widget, the connect window and the
// app built as vite.config.ts builds them, served by a real gateway on 127.0.0.1 (the DAO's site),
// and partner pages on 127.0.0.2, a genuinely different site (another host).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'vite';
import type { Gateway } from '../../server/gateway.js';
import { REPO_ROOT } from './browser.js';
import { startTestGateway } from './gateway.js';

const WEB_ROOT = join(REPO_ROOT, 'web');

export interface WidgetRig {
  gateway: Gateway & { dataDir: string };
  daoOrigin: string;
  /** http://127.0.0.2:PORT: pages there embed the widget from daoOrigin. */
  partnerOrigin: string;
  close(): Promise<void>;
}

/** Builds the app, the widget and the connect window into a temporary folder. */
async function buildWeb(outDir: string): Promise<void> {
  await build({
    configFile: false,
    root: WEB_ROOT,
    publicDir: '../public',
    logLevel: 'error',
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      rollupOptions: {
        input: {
          main: join(WEB_ROOT, 'index.html'),
          widget: join(WEB_ROOT, 'widget/widget.ts'),
          'widget-frame': join(WEB_ROOT, 'widget/widget.html'),
          connect: join(WEB_ROOT, 'connect/connect.html'),
        },
        output: { entryFileNames: (chunk) => (chunk.name === 'widget' ? 'widget.js' : 'assets/[name]-[hash].js') },
      },
    },
    worker: { format: 'es' },
  });
}

/**
 * The partner page: records every 'dao-widget' event in window.__events. `attributes` replaces the
 * default data-* attributes; `sandbox` (for the blocked-window case) replaces the loader's frame
 * with one the page writes itself.
 */
export function partnerPage(daoOrigin: string, query: URLSearchParams): string {
  const attributes = query.get('attrs') ?? `data-dao-origin="${daoOrigin}" data-size="compact" data-theme="light" data-referral="cross-site"`;
  const sandbox = query.get('sandbox');
  const embed =
    sandbox === null
      ? `<script id="dao" src="${daoOrigin}/widget.js" ${attributes} async></script>`
      : // The src is set once, by script (the page's own origin goes in it): a src in the markup that
        // the script then replaced made the frame load twice, and a test could grab the first document.
        `<iframe id="manual" sandbox="${sandbox}" width="320" height="140" style="border:0;display:block"></iframe>
         <script>document.getElementById('manual').src = '${daoOrigin}/widget/widget.html?size=compact&theme=light&parent=' + encodeURIComponent(location.origin);</script>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A partner on another site</title>
<style>body { margin: 20px; font: 14px sans-serif; } #decoy { position: absolute; left: 20px; top: 60px; z-index: 0; }</style>
<script>
  window.__events = [];
  window.__errors = [];
  const error = console.error;
  console.error = (...args) => { window.__errors.push(args.join(' ')); error.apply(console, args); };
  window.addEventListener('dao-widget', (e) => window.__events.push({ ...e.detail, atMs: performance.now() }));
</script></head>
<body><h1>A partner page</h1>
${embed}
<p>Below the widget.</p>
</body></html>`;
}

export async function startWidgetRig(): Promise<WidgetRig> {
  const outDir = mkdtempSync(join(tmpdir(), 'dao-widget-x-'));
  await buildWeb(outDir);
  const gateway = await startTestGateway({ webRoot: outDir, host: '127.0.0.1' });
  const daoOrigin = new URL(gateway.httpUrl).origin;
  const partner: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(partnerPage(daoOrigin, url.searchParams));
  });
  await new Promise<void>((resolve) => partner.listen(0, '127.0.0.2', resolve));
  const address = partner.address();
  assert.ok(address && typeof address !== 'string');
  return {
    gateway,
    daoOrigin,
    partnerOrigin: `http://127.0.0.2:${address.port}`,
    async close() {
      await new Promise<void>((resolve) => partner.close(() => resolve()));
      await gateway.close();
      rmSync(gateway.dataDir, { recursive: true, force: true });
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}

/** Page scripts (strings: tsx would wrap functions' helpers in __name(), unknown in the page). */
export const READ_IDENTITY = `new Promise((resolve, reject) => {
  const open = indexedDB.open('dao-member');
  open.onerror = () => reject(open.error);
  open.onsuccess = () => {
    const db = open.result;
    if (!db.objectStoreNames.contains('identity')) return resolve(null);
    const get = db.transaction('identity').objectStore('identity').get('member');
    get.onsuccess = () => resolve(get.result ? get.result.address : null);
    get.onerror = () => reject(get.error);
  };
})`;

/** Makes the iframe nearly transparent over a decoy button (the classic clickjack). */
export const DECOY_OPACITY = `(() => {
  const f = document.querySelector('iframe');
  const decoy = document.createElement('button');
  decoy.id = 'decoy'; decoy.textContent = 'Claim your prize';
  decoy.style.cssText = 'position:absolute;left:20px;top:60px;width:320px;height:140px;z-index:0';
  document.body.append(decoy);
  f.style.cssText = 'border:0;display:block;position:absolute;left:20px;top:60px;z-index:1;opacity:0.01';
})()`;

/** Covers the iframe with an opaque element that lets clicks through. */
export const DECOY_COVER = `(() => {
  const f = document.querySelector('iframe');
  const r = f.getBoundingClientRect();
  const cover = document.createElement('div');
  cover.textContent = 'Click anywhere to continue';
  cover.style.cssText = 'position:absolute;background:#fc0;pointer-events:none;z-index:5;left:' + (r.left + scrollX) + 'px;top:' + (r.top + scrollY) + 'px;width:' + r.width + 'px;height:' + r.height + 'px';
  document.body.append(cover);
})()`;

export const MOVE_OFF_SCREEN = `(() => { const f = document.querySelector('iframe'); f.style.position = 'fixed'; f.style.left = '-5000px'; f.style.top = '0px'; })()`;
export const MOVE_BACK = `(() => { const f = document.querySelector('iframe'); f.style.position = ''; f.style.left = ''; f.style.top = ''; })()`;
export const SHRINK = `(() => { const f = document.querySelector('iframe'); f.width = '1'; f.height = '1'; })()`;
