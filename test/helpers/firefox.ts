// The second browser engine for the app and widget tests: Debian's Firefox ESR, driven over
// WebDriver BiDi by puppeteer-core (which downloads nothing). Firefox on Linux has no WebGPU
// adapter, partitions a third-party frame's IndexedDB per top-level site and has no
// IntersectionObserver v2, so the tests that need those stay Chromium-only and say so.
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/** Debian's firefox-esr; override with FIREFOX_PATH. */
export const FIREFOX_PATH = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';

/** A headless Firefox. Fails with what to install if it is missing. */
export async function launchFirefox(): Promise<Browser> {
  try {
    return await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX_PATH,
      headless: true,
      // A test browser must not reach the network or nag: no telemetry, updates or first-run pages.
      extraPrefsFirefox: {
        'app.update.enabled': false,
        'browser.shell.checkDefaultBrowser': false,
        'datareporting.policy.dataSubmissionEnabled': false,
        'toolkit.telemetry.enabled': false,
      },
    });
  } catch (error) {
    throw new Error(
      `could not start Firefox at ${FIREFOX_PATH} (install Debian's firefox-esr or set FIREFOX_PATH): ${String(error)}`,
    );
  }
}

export interface OpenedFirefoxPage {
  page: Page;
  /** Uncaught page errors and console errors so far, to put in assertion messages. */
  errors: string[];
}

/** Opens `url` in a new tab and records its errors, like browser.ts's openPage for Chromium. */
export async function openFirefoxPage(browser: Browser, url: string): Promise<OpenedFirefoxPage> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error instanceof Error ? error.message : String(error)}`));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  await page.goto(url);
  return { page, errors };
}
