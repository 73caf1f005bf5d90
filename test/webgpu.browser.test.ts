// The WebGPU engine in headless Chromium (WebGPU on SwiftShader), on the page's main thread and in
// a dedicated module worker, served by Vite exactly as the app's modules are. Without a WebGPU
// adapter the tests fail with the reason; they never skip.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { bitsToTarget } from '../protocol/target.js';
import type { ScanRequest, WebGpuTestApi } from './browser/webgpu-scan.js';
import { launchChromium, openPage, startDevServer, type DevServer } from './helpers/browser.js';
import { loadVectors } from './helpers/vectors.js';

const genesis = loadVectors().block_headers.find((block) => block.name === 'genesis');
if (!genesis) throw new Error('the vectors have no genesis block');

const request: ScanRequest = {
  headerHex: genesis.header_hex,
  targetHex: bitsToTarget(parseInt(genesis.bits, 16)).toString(16).padStart(64, '0'),
  nonceStart: genesis.nonce - 1500,
  count: 4096,
  batchSize: 1024, // several batches, so the in-flight pipelining runs in the browser too
};

describe('webgpu engine in Chromium', () => {
  let server: DevServer | undefined;
  let browser: Browser | undefined;

  before(async () => {
    server = await startDevServer();
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const where of ['mainThread', 'worker'] as const) {
    test(`finds the genesis nonce ${genesis.nonce} (${where === 'mainThread' ? 'main thread' : 'dedicated worker'})`, async () => {
      assert.ok(server && browser, 'the dev server and the browser started');
      const { page, errors } = await openPage(browser, `${server.url}test/browser/webgpu.html`);
      try {
        await page.waitForFunction(() => 'webgpuTest' in window, undefined, { timeout: 30_000 }).catch(() => {
          throw new Error(`the test page did not load: ${errors.join('; ') || 'no error reported'}`);
        });
        const reply = await page.evaluate(
          ([method, req]) => (window as unknown as { webgpuTest: WebGpuTestApi }).webgpuTest[method](req),
          [where, request] as const,
        );
        assert.deepEqual(reply.nonces, [genesis.nonce], `adapter ${reply.adapter}; page errors: ${errors.join('; ')}`);
        assert.equal(reply.scanned, request.count);
        assert.match(reply.adapter, /\S/);
      } finally {
        await page.close();
      }
    });
  }
});
