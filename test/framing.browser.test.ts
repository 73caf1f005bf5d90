// Clickjacking: the app signs votes and claims on a click, so a page on another site must not be
// able to frame it and lay its own buttons over ours. A real gateway serves the built app at
// 127.0.0.1; a "partner" page at 127.0.0.2 (another site) frames the app and, as the control, the
// widget frame page, which partners are meant to embed. In Chromium and in Firefox the app's frame
// never becomes the app; the widget's does. The headers are checked with a plain fetch as well.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import type { Browser as PuppeteerBrowser, Frame as PuppeteerFrame, Page as PuppeteerPage } from 'puppeteer-core';
import type { Browser, Frame } from 'playwright-core';
import { preview } from 'vite';
import type { Gateway } from '../server/gateway.js';
import { REPO_ROOT, launchChromium } from './helpers/browser.js';
import { launchFirefox } from './helpers/firefox.js';
import { startTestGateway } from './helpers/gateway.js';
import { waitFor } from './helpers/wait-for.js';

/** The partner's host: another site than the gateway's 127.0.0.1 (an IP address is its own site). */
const PARTNER_HOST = '127.0.0.2';

/** A partner page with two frames: the app (`name="app"`) and the widget frame (`name="widget"`). */
function framingPage(appUrl: string, widgetUrl: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A page on another site</title></head>
<body><h1>Another site</h1>
<iframe name="app" src="${appUrl}" width="800" height="400"></iframe>
<iframe name="widget" src="${widgetUrl}" width="320" height="140"></iframe>
</body></html>`;
}

/** What a frame's document holds: run inside it (a string: tsx would wrap a function in __name()). */
const PROBE = `({ href: location.href, app: document.querySelector('dao-app') !== null, widget: document.querySelector('#start') !== null, title: document.title })`;

interface Probe {
  href: string;
  app: boolean;
  widget: boolean;
  title: string;
}

describe('framing (real gateway at 127.0.0.1, a page on 127.0.0.2 frames it)', () => {
  let gateway: Gateway;
  let partner: Server;
  let origin: string;
  let partnerUrl: string;
  /** The gateway's responses to the frames' navigations, by path: proves the refusal is by header. */
  const served: string[] = [];

  before(async () => {
    gateway = await startTestGateway({ startDifficulty: 1e-4 });
    origin = new URL(gateway.httpUrl).origin;
    partner = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(framingPage(`${origin}/`, `${origin}/widget/widget.html?parent=${encodeURIComponent(partnerUrl.replace(/\/$/, ''))}`));
    });
    await new Promise<void>((resolve) => partner.listen(0, PARTNER_HOST, resolve));
    const address = partner.address();
    assert.ok(address && typeof address !== 'string');
    partnerUrl = `http://${PARTNER_HOST}:${address.port}/`;
  });
  after(async () => {
    await new Promise<void>((resolve) => (partner ? partner.close(() => resolve()) : resolve()));
    await gateway?.close();
  });

  test('headers: the app framed by its own origin only, the widget frame by anyone, JSON by nobody', async () => {
    const get = async (path: string, init?: RequestInit) => {
      const res = await fetch(`${origin}${path}`, init);
      await res.arrayBuffer();
      return res.headers;
    };
    const pages = ['/', '/index.html', '/bench.html', '/widget/demo-partner.html', '/favicon.svg', '/widget.js'];
    for (const path of pages) {
      const headers = await get(path);
      assert.equal(headers.get('content-security-policy'), "frame-ancestors 'self'", path);
      assert.equal(headers.get('x-frame-options'), 'SAMEORIGIN', path);
    }
    // The app's script, found in the page, not guessed.
    const index = await (await fetch(`${origin}/`)).text();
    const script = /src="(\/assets\/main-[^"]+\.js)"/.exec(index)?.[1];
    assert.ok(script, 'the built page names its script');
    assert.equal((await get(script)).get('x-frame-options'), 'SAMEORIGIN');

    for (const path of ['/widget/widget.html', '/widget/widget.html?parent=https%3A%2F%2Fpartner.example', '/widget//widget.html']) {
      const headers = await get(path);
      assert.equal(headers.get('content-type'), 'text/html; charset=utf-8', path);
      assert.equal(headers.get('x-frame-options'), null, `${path}: partners frame it`);
      assert.equal(headers.get('content-security-policy'), null, `${path}: no frame-ancestors (* would refuse sandboxed partner pages)`);
    }

    for (const path of ['/api/stats', '/healthz', '/api/chain', '/api/nope', '/no-such-file.html', '/metrics']) {
      const headers = await get(path);
      assert.equal(headers.get('content-security-policy'), "frame-ancestors 'none'", path);
      assert.equal(headers.get('x-frame-options'), 'DENY', path);
    }
    const every = ['/', '/widget/widget.html', script, '/api/stats', '/no-such-file.html', '/metrics'];
    for (const path of every) {
      const headers = await get(path);
      assert.equal(headers.get('x-content-type-options'), 'nosniff', path);
      assert.equal(headers.get('referrer-policy'), 'strict-origin-when-cross-origin', path);
    }
    const preflight = await get('/api/votes', { method: 'OPTIONS' });
    assert.equal(preflight.get('x-content-type-options'), 'nosniff');
    assert.equal(preflight.get('referrer-policy'), 'strict-origin-when-cross-origin');
  });

  test('vite preview with vite.config.ts sends the same headers as the gateway', async () => {
    const server = await preview({ configFile: `${REPO_ROOT}vite.config.ts`, logLevel: 'error', preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false } });
    try {
      const base = server.resolvedUrls?.local[0];
      assert.ok(base, 'the preview server reports its URL');
      const appResponse = await fetch(base);
      assert.equal(appResponse.status, 200, 'the built app (npm run build) is served');
      assert.match(await appResponse.text(), /<dao-app>/);
      const app = appResponse.headers;
      assert.equal(app.get('content-security-policy'), "frame-ancestors 'self'");
      assert.equal(app.get('x-frame-options'), 'SAMEORIGIN');
      assert.equal(app.get('x-content-type-options'), 'nosniff');
      assert.equal(app.get('referrer-policy'), 'strict-origin-when-cross-origin');
      const widgetResponse = await fetch(new URL('widget/widget.html', base));
      assert.equal(widgetResponse.status, 200);
      assert.match(await widgetResponse.text(), /Start contributing/);
      const widget = widgetResponse.headers;
      assert.equal(widget.get('x-frame-options'), null);
      assert.equal(widget.get('content-security-policy'), null);
      assert.equal(widget.get('referrer-policy'), 'strict-origin-when-cross-origin');
    } finally {
      await server.close();
    }
  });

  describe('Chromium', () => {
    let browser: Browser;
    before(async () => {
      browser = await launchChromium();
    });
    after(async () => {
      await browser?.close();
    });

    const probe = async (frame: Frame): Promise<Probe | string> => frame.evaluate<Probe>(PROBE).catch((err: Error) => `unreadable: ${err.message}`);

    test('a page on another site cannot frame the app; it can frame the widget', { timeout: 60_000 }, async () => {
      const page = await browser.newPage();
      const responses: string[] = [];
      page.on('response', (res) => {
        if (res.url().startsWith(origin) && res.request().isNavigationRequest()) responses.push(`${res.status()} ${new URL(res.url()).pathname}`);
      });
      await page.goto(partnerUrl);
      const widget = page.frame({ name: 'widget' });
      assert.ok(widget);
      await widget.locator('#start').waitFor({ timeout: 20_000 });
      // Both frames were asked for, and the gateway served both: the refusal is the browser's, by header.
      await waitFor('the gateway to serve both frames', async () => responses.includes('200 /') && responses.includes('200 /widget/widget.html'), 10_000);
      // The app's scripts would have had the widget's load time and more to define <dao-app>.
      await page.waitForTimeout(1000);
      const app = page.frame({ name: 'app' });
      assert.ok(app, 'the frame element is there');
      const inside = await probe(app);
      // Chromium swaps the refused document for its error page.
      assert.equal(app.url(), 'chrome-error://chromewebdata/', `the app frame holds ${JSON.stringify(inside)}`);
      assert.ok(typeof inside === 'string' || !inside.app, `the app frame holds ${JSON.stringify(inside)}`);
      assert.equal(await page.locator('iframe[name="app"]').count(), 1);
      assert.equal(await app.locator('dao-app').count().catch(() => 0), 0, 'no app element in the frame');
      assert.deepEqual(await probe(widget), { href: `${origin}/widget/widget.html?parent=${encodeURIComponent(partnerUrl.replace(/\/$/, ''))}`, app: false, widget: true, title: await widget.title() });
      await page.close();
    });

    test('the control: the app frames itself (same origin), and that frame is the app', async () => {
      const page = await browser.newPage();
      await page.goto(`${origin}/`);
      await page.evaluate(`(() => { const f = document.createElement('iframe'); f.name = 'self'; f.src = '/'; document.body.append(f); })()`);
      await waitFor('the app in its own frame', async () => {
        const self = page.frame({ name: 'self' });
        return self !== null && ((await probe(self)) as Probe).app === true;
      }, 20_000);
      await page.close();
    });
  });

  describe('Firefox', () => {
    let browser: PuppeteerBrowser;
    before(async () => {
      browser = await launchFirefox();
    });
    after(async () => {
      await browser?.close();
    });

    const probe = async (frame: PuppeteerFrame): Promise<Probe | string> =>
      frame.evaluate(PROBE).then((p) => p as Probe).catch((err: Error) => `unreadable: ${err.message}`);
    /**
     * The child frames by the URL they were asked to load (this Firefox's WebDriver BiDi has no
     * locateNodes by context, so frameElement() is out): `widget` ends in the widget's path, `app`
     * is the other one.
     */
    const childFrames = (page: PuppeteerPage): { app?: PuppeteerFrame; widget?: PuppeteerFrame; all: string[] } => {
      const children = page.frames().filter((f) => f !== page.mainFrame());
      const widget = children.find((f) => f.url().includes('/widget/widget.html'));
      const app = children.find((f) => f !== widget);
      return { app, widget, all: children.map((f) => f.url()) };
    };
    test('a page on another site cannot frame the app; it can frame the widget', { timeout: 90_000 }, async () => {
      const page = await browser.newPage();
      await page.goto(partnerUrl);
      await waitFor('the widget frame to load', async () => {
        const { widget } = childFrames(page);
        return widget !== undefined && ((await probe(widget)) as Probe).widget === true;
      }, 30_000);
      await new Promise((r) => setTimeout(r, 1000));
      const { app, all } = childFrames(page);
      const inside = app ? await probe(app) : 'no frame';
      // Firefox shows its error page, which names the reason: the app's CSP (frame-ancestors).
      assert.match(app?.url() ?? '', /^about:neterror\?e=cspBlocked&/, `frames: ${all.join(', ')}`);
      assert.ok(typeof inside === 'string' || !inside.app, `the app frame holds ${JSON.stringify(inside)}`);
      await page.close();
    });

    test('the control: the app frames itself (same origin), and that frame is the app', { timeout: 60_000 }, async () => {
      const page = await browser.newPage();
      await page.goto(`${origin}/`);
      await page.evaluate(`(() => { const f = document.createElement('iframe'); f.name = 'self'; f.src = '/'; document.body.append(f); })()`);
      await waitFor('the app in its own frame', async () => {
        const self = childFrames(page).app;
        return self !== undefined && ((await probe(self)) as Probe).app === true;
      }, 30_000);
      await page.close();
    });
  });
});
