// The partner widget, built, with its frame served by a real gateway (the DAO origin) and the
// partner page served from another origin (another port of 127.0.0.1; and localhost, another
// site, where this Chromium blocks the frame's storage as third-party). The host page can ask,
// never force: nothing it can script starts mining; a real click inside the frame does, and Stop
// stops.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import type { Gateway } from '../server/gateway.js';
import { readFrameParams } from '../web/widget/frame-params.js';
import { launchChromium, openPage, REPO_ROOT } from './helpers/browser.js';
import { startTestGateway } from './helpers/gateway.js';
import { waitFor } from './helpers/wait-for.js';

const WEB_ROOT = join(REPO_ROOT, 'web');

/**
 * The widget's three entries, as the app's vite.config.ts builds them: the loader at a fixed
 * /widget.js (partners hard-code that URL), the frame page and the demo partner page.
 */
async function buildWidget(outDir: string): Promise<void> {
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
          widget: join(WEB_ROOT, 'widget/widget.ts'),
          'widget-frame': join(WEB_ROOT, 'widget/widget.html'),
          'widget-demo': join(WEB_ROOT, 'widget/demo-partner.html'),
          connect: join(WEB_ROOT, 'connect/connect.html'),
        },
        output: { entryFileNames: (chunk) => (chunk.name === 'widget' ? 'widget.js' : 'assets/[name]-[hash].js') },
      },
    },
    worker: { format: 'es' },
  });
}

/** The partner's page: records its globals before the loader, and every 'dao-widget' event. */
function partnerPage(daoOrigin: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A partner</title>
<script>
  window.__globalsBefore = Object.getOwnPropertyNames(window);
  window.__events = [];
  window.__scriptEvents = [];
  window.addEventListener('dao-widget', (e) => window.__events.push(e.detail));
</script></head>
<body><h1>A partner page</h1>
<script id="dao" src="${daoOrigin}/widget.js" data-dao-origin="${daoOrigin}" data-size="compact" data-theme="dark" data-referral="test-partner" async></script>
<script>document.getElementById('dao').addEventListener('dao-widget', (e) => window.__scriptEvents.push(e.detail));</script>
</body></html>`;
}

// Strings, not functions: tsx's transform would wrap a function's inner helpers in __name(),
// which does not exist in the page.
function tryToForce(daoOrigin: string): string {
  return `(async () => {
  const iframe = document.querySelector('iframe');
  const win = iframe.contentWindow;
  const attempts = {};
  const attempt = (name, f) => { try { attempts[name] = 'allowed: ' + String(f()); } catch (e) { attempts[name] = 'threw ' + e.name; } };
  attempt('contentWindow.document', () => win.document);
  attempt('contentWindow.document.querySelector', () => win.document.querySelector('#start').click());
  attempt('contentWindow.location.href', () => win.location.href);
  attempt('contentWindow.eval', () => win.eval('1'));
  attempt('contentWindow.start', () => win.start());
  attempt('contentDocument', () => iframe.contentDocument === null ? 'null' : 'a document');
  const messages = ['start', 'Start contributing', { type: 'start' }, { mark: 'dao-widget', type: 'start' }, { action: 'start' },
    { command: 'start', consent: true }, { method: 'start' }, { type: 'click', target: '#start' }, JSON.stringify({ type: 'start' })];
  for (const message of messages) {
    win.postMessage(message, '*');
    attempt('postMessage to the DAO origin', () => win.postMessage(message, ${JSON.stringify(daoOrigin)}));
  }
  // Reload the frame with made-up "autostart" parameters.
  iframe.src = iframe.src + '&autostart=1&start=true&consent=1';
  await new Promise((r) => iframe.addEventListener('load', r, { once: true }));
  attempt('contentWindow.document after reload', () => win.document);
  for (const message of messages) win.postMessage(message, '*');
  attempts.windowGlobals = Object.getOwnPropertyNames(window).filter((n) => !window.__globalsBefore.includes(n) && !n.startsWith('__') && Number.isNaN(Number(n)));
  return attempts;
})()`;
}

async function events(page: Page, which = '__events'): Promise<{ type: string; accepted?: number; hashesPerSecond?: number }[]> {
  return page.evaluate(`window.${which}`);
}

describe('frame parameters (pure)', () => {
  test('the parent origin is accepted only as exactly an http(s) origin that matches the real embedder', () => {
    assert.equal(readFrameParams('?parent=https%3A%2F%2Fpartner.example').parentOrigin, 'https://partner.example');
    assert.equal(readFrameParams('?parent=http%3A%2F%2Flocalhost%3A8080').parentOrigin, 'http://localhost:8080');
    for (const bad of ['*', 'null', '', 'https://partner.example/page', 'javascript:alert(1)', 'data:text/html,x', 'partner.example', 'https://user@partner.example']) {
      assert.equal(readFrameParams(`?parent=${encodeURIComponent(bad)}`).parentOrigin, undefined, bad);
    }
    assert.equal(readFrameParams('?parent=https%3A%2F%2Fpartner.example', ['https://evil.example']).parentOrigin, undefined);
    assert.equal(readFrameParams('?parent=https%3A%2F%2Fpartner.example', ['https://partner.example']).parentOrigin, 'https://partner.example');
    const params = readFrameParams('?theme=dark&size=full&ref=par<tner>-1');
    assert.deepEqual(params, { theme: 'dark', size: 'full', referral: 'partner-1', maxCpuPercent: 100, parentOrigin: undefined });
    assert.deepEqual(readFrameParams('?theme=x&size=y'), { theme: 'light', size: 'compact', referral: '', maxCpuPercent: 100, parentOrigin: undefined });
  });

  test('the partner CPU ceiling is a whole percentage 1..100; anything else is no ceiling', () => {
    assert.equal(readFrameParams('?cpu=25').maxCpuPercent, 25);
    assert.equal(readFrameParams('?cpu=10').maxCpuPercent, 10);
    for (const bad of ['0', '9', '101', '-5', '2.5', 'x', '', '1e2']) assert.equal(readFrameParams(`?cpu=${encodeURIComponent(bad)}`).maxCpuPercent, 100, bad);
  });
});

describe('partner widget (built; frame on the gateway, partner page on another origin)', () => {
  let outDir: string;
  let gateway: Gateway & { dataDir: string };
  let partner: Server;
  let browser: Browser;
  let daoOrigin: string;
  /** Same site as the gateway (127.0.0.1, another port), so the frame's IndexedDB is first-party. */
  let partnerOrigin: string;
  /** Another site (localhost): this Chromium blocks third-party storage, as incognito windows do. */
  let crossSiteOrigin: string;

  before(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'dao-widget-'));
    await buildWidget(outDir);
    gateway = await startTestGateway({ webRoot: outDir });
    daoOrigin = new URL(gateway.httpUrl).origin;
    const demo = readFileSync(join(WEB_ROOT, 'widget/demo-partner.html'), 'utf8').replaceAll('http://127.0.0.1:8080', daoOrigin);
    partner = createServer((req, res) => {
      const body = req.url === '/demo' ? demo : req.url === '/' ? partnerPage(daoOrigin) : '';
      res.writeHead(body ? 200 : 204, body ? { 'content-type': 'text/html; charset=utf-8' } : {});
      res.end(body);
    });
    await new Promise<void>((resolve) => partner.listen(0, '127.0.0.1', resolve));
    const address = partner.address();
    assert.ok(address && typeof address !== 'string');
    partnerOrigin = `http://127.0.0.1:${address.port}`;
    crossSiteOrigin = `http://localhost:${address.port}`;
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (partner ? partner.close(() => resolve()) : resolve()));
    await gateway?.close();
    if (gateway) rmSync(gateway.dataDir, { recursive: true, force: true });
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  test('the loader is a tiny classic script: under 10 kB gzipped, no import, no export', () => {
    const loader = readFileSync(join(outDir, 'widget.js'));
    const gzipped = gzipSync(loader).length;
    console.log(`widget.js: ${loader.length} bytes, ${gzipped} bytes gzipped`);
    assert.ok(gzipped < 10_240, `widget.js is ${gzipped} bytes gzipped`);
    const text = loader.toString('utf8');
    assert.doesNotMatch(text, /(^|[;}\s])(import|export)\b[\s{*'"`]/, 'a classic <script> cannot run import/export');
    assert.doesNotMatch(text, /lit-html|LitElement|customElements/, 'no Lit, no app code');
    assert.match(text, /^\(function\(\)\{/, 'everything inside one function: no globals for the partner page');
  });

  test('the host page can ask, never force; a real click inside the frame starts mining, Stop stops', { timeout: 120_000 }, async () => {
    const { page, errors } = await openPage(browser, `${partnerOrigin}/`);
    const frame = page.frameLocator('iframe');
    await frame.getByRole('button', { name: 'Start contributing' }).waitFor({ timeout: 15_000 });
    await waitFor('the ready event on the host page', async () => (await events(page)).some((e) => e.type === 'ready'), 10_000);

    // The iframe: on the DAO origin, sandboxed to scripts, its own origin and the first-party
    // connect window (popups, storage access); no top navigation, no forms, no permissions.
    const iframe = await page.evaluate(`(() => { const f = document.querySelector('iframe'); return {
      src: f.src, sandbox: f.getAttribute('sandbox'), allow: f.getAttribute('allow'), title: f.title, width: f.width, height: f.height,
      afterScript: f.previousElementSibling && f.previousElementSibling.id } })()`) as Record<string, string>;
    const src = new URL(iframe.src!);
    assert.equal(src.origin, daoOrigin);
    assert.notEqual(src.origin, partnerOrigin);
    assert.equal(src.pathname, '/widget/widget.html');
    assert.equal(src.searchParams.get('parent'), partnerOrigin);
    assert.equal(src.searchParams.get('theme'), 'dark');
    assert.equal(src.searchParams.get('size'), 'compact');
    assert.equal(src.searchParams.get('ref'), 'test-partner');
    assert.equal(iframe.sandbox, 'allow-scripts allow-same-origin allow-popups allow-popups-to-escape-sandbox allow-storage-access-by-user-activation');
    assert.doesNotMatch(iframe.sandbox!, /allow-top-navigation|allow-forms|allow-modals/);
    assert.equal(iframe.allow, '');
    assert.ok(iframe.title);
    assert.deepEqual([iframe.width, iframe.height], ['320', '140']);
    assert.equal(iframe.afterScript, 'dao', 'the iframe follows the script element');

    // Everything the host page can script, and nothing happens.
    const attempts = (await page.evaluate(tryToForce(daoOrigin))) as Record<string, unknown>;
    for (const name of ['contentWindow.document', 'contentWindow.document.querySelector', 'contentWindow.location.href', 'contentWindow.eval', 'contentWindow.start', 'contentWindow.document after reload']) {
      assert.equal(attempts[name], 'threw SecurityError', `${name}: ${String(attempts[name])}`);
    }
    assert.equal(attempts.contentDocument, 'allowed: null');
    assert.deepEqual(attempts.windowGlobals, [], 'the loader adds no globals (so no API to call)');
    await frame.getByRole('button', { name: 'Start contributing' }).waitFor();
    await page.waitForTimeout(1500);
    assert.equal((await gateway.view.ledger.totals()).shares, 0, 'no share before the click');
    assert.equal(page.workers().length, 0, 'no worker before the click');
    assert.equal(await frame.locator('main').getAttribute('data-state'), 'idle');
    assert.ok(!(await events(page)).some((e) => e.type === 'started'));

    assert.equal(await page.locator('iframe').getAttribute('sandbox'), 'allow-scripts allow-same-origin allow-popups allow-popups-to-escape-sandbox allow-storage-access-by-user-activation', 'mining runs in the sandbox as shipped');

    // A real click inside the frame.
    await frame.getByRole('button', { name: 'Start contributing' }).click();
    await waitFor('shares at the gateway', async () => (await gateway.view.ledger.totals()).shares > 0, 30_000).catch(async (error: Error) => {
      const status = await frame.locator('#status').textContent({ timeout: 1000 }).catch(() => '?');
      throw new Error(`${error.message}; the frame says "${status}"; page errors: ${errors.join('; ')}`);
    });
    await waitFor('started, hashrate and shares events on the host page', async () => {
      const types = new Set((await events(page)).map((e) => e.type));
      return types.has('started') && types.has('hashrate') && types.has('shares');
    }, 15_000);
    const onScript = new Set((await events(page, '__scriptEvents')).map((e) => e.type));
    assert.ok(onScript.has('started') && onScript.has('shares'), `events on the script element: ${[...onScript].join(', ')}`);
    const rate = (await events(page)).filter((e) => e.type === 'hashrate').at(-1)!;
    assert.ok((rate.hashesPerSecond ?? 0) > 0, `hash rate ${rate.hashesPerSecond}`);
    assert.ok(page.workers().length > 0, 'the frame runs its hashing worker');
    assert.equal(await frame.locator('main').getAttribute('data-state'), 'running');

    // Stop stops: the worker ends and no more shares arrive.
    await frame.getByRole('button', { name: 'Stop' }).click();
    await waitFor('the stopped event', async () => (await events(page)).some((e) => e.type === 'stopped'), 5000);
    await waitFor('the worker to end', () => page.workers().length === 0, 2000);
    await page.waitForTimeout(300);
    const sharesAtStop = (await gateway.view.ledger.totals()).shares;
    await page.waitForTimeout(1500);
    assert.equal((await gateway.view.ledger.totals()).shares, sharesAtStop, 'no share after Stop');
    assert.equal(await frame.locator('main').getAttribute('data-state'), 'stopped');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('on another site, where the browser blocks third-party storage, Start asks the first-party connect window instead', { timeout: 60_000 }, async () => {
    const { page, errors } = await openPage(browser, `${crossSiteOrigin}/`);
    const frame = page.frameLocator('iframe');
    await frame.getByRole('button', { name: 'Start contributing' }).waitFor({ timeout: 15_000 });
    await page.waitForTimeout(800);
    const popup = page.context().waitForEvent('page', { timeout: 10_000 });
    await frame.getByRole('button', { name: 'Start contributing' }).click();
    const connect = await popup;
    assert.equal(new URL(connect.url()).origin, daoOrigin);
    await waitFor('the started event', async () => (await events(page)).some((e) => e.type === 'started'), 20_000);
    assert.doesNotMatch((await frame.locator('#status').textContent()) ?? '', /does not let the widget store/);
    await frame.getByRole('button', { name: 'Stop' }).click();
    await waitFor('the stopped event', async () => (await events(page)).some((e) => e.type === 'stopped'), 5000);
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('the demo partner page embeds the widget across sites', async () => {
    const { page, errors } = await openPage(browser, `${crossSiteOrigin}/demo`);
    await page.frameLocator('iframe').getByRole('button', { name: 'Start contributing' }).waitFor({ timeout: 15_000 });
    await page.locator('#log').filter({ hasText: '"type":"ready"' }).waitFor({ timeout: 10_000 });
    const src = new URL((await page.locator('iframe').getAttribute('src'))!);
    assert.equal(src.origin, daoOrigin);
    assert.equal(src.searchParams.get('size'), 'full');
    assert.equal(src.searchParams.get('ref'), 'demo-partner');
    assert.equal(page.workers().length, 0);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
