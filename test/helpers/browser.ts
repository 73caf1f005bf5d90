// Reusable pieces for browser tests: a Vite dev server over the repository and a headless
// Chromium that has WebGPU (on SwiftShader where there is no GPU).
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createServer } from 'vite';

/** Debian's chromium; override with CHROMIUM_PATH. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Flags that give headless Chromium 156 a WebGPU adapter, checked with navigator.gpu.requestAdapter()
 * on a page served from http://127.0.0.1 (navigator.gpu exists only in secure contexts, so not on
 * about:blank):
 * - --enable-unsafe-webgpu is the one that matters: without it requestAdapter() returns null
 *   ("No available adapters": SwiftShader is blocklisted for WebGPU); with it alone the adapter is
 *   SwiftShader (vendor google, architecture swiftshader).
 * - --use-webgpu-adapter=swiftshader, --enable-features=Vulkan and --use-angle=swiftshader pin the
 *   software adapter, so the result does not depend on whether the machine has a GPU.
 * - --no-sandbox and --disable-gpu-sandbox: containers without user namespaces cannot start the
 *   sandboxes; the rest keep a test browser from reaching the network.
 */
export const WEBGPU_CHROMIUM_ARGS: readonly string[] = [
  '--enable-unsafe-webgpu',
  '--use-webgpu-adapter=swiftshader',
  '--enable-features=Vulkan',
  '--use-angle=swiftshader',
  '--no-sandbox',
  '--disable-gpu-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** A headless Chromium with WebGPU enabled. Fails with what to install if Chromium is missing. */
export async function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  try {
    return await chromium.launch({ executablePath: CHROMIUM_PATH, args: [...WEBGPU_CHROMIUM_ARGS, ...extraArgs] });
  } catch (error) {
    throw new Error(
      `could not start Chromium at ${CHROMIUM_PATH} (install Debian's chromium or set CHROMIUM_PATH): ${String(error)}`,
    );
  }
}

export interface DevServer {
  /** The server's origin with a trailing slash, e.g. http://127.0.0.1:41234/ */
  url: string;
  close(): Promise<void>;
}

/** The repository root: test/helpers/ is two levels below it. */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * A Vite dev server over the repository root on a free port of 127.0.0.1 (a secure context, as
 * WebGPU requires). It ignores vite.config.ts, so test pages get plain Vite whatever the app's build
 * adds, and it neither watches files nor pre-bundles dependencies: a test run edits nothing, and a
 * mid-test "new dependencies optimized, reloading" would break the page under the test.
 */
export async function startDevServer(): Promise<DevServer> {
  const server = await createServer({
    root: REPO_ROOT,
    configFile: false,
    logLevel: 'warn',
    clearScreen: false,
    server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false, watch: null },
    optimizeDeps: { noDiscovery: true, include: [] },
  });
  await server.listen();
  const address = server.httpServer?.address();
  if (!address || typeof address === 'string') {
    await server.close();
    throw new Error('the Vite dev server did not report a TCP address');
  }
  return { url: `http://127.0.0.1:${address.port}/`, close: () => server.close() };
}

export interface OpenedPage {
  page: Page;
  /** Uncaught page errors and console errors so far, to put in assertion messages. */
  errors: string[];
}

/** Opens `url` in a new page and records its errors (a failing module import shows up only there). */
export async function openPage(browser: Browser, url: string): Promise<OpenedPage> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  // No Compute Pressure: Chromium reports this machine's real load, and a busy test machine would
  // halve or pause mining under tests that measure it (the pressure tests bring a stand-in).
  await page.addInitScript('delete window.PressureObserver');
  await page.goto(url);
  return { page, errors };
}
