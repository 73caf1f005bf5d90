// The app's confirmation dialog (web/app/confirm-dialog.ts), answered as a member would.
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';

/**
 * Waits for the open confirmation dialog, checks that it names `expected`, and clicks `choice`.
 * Returns the dialog's text. Closed dialogs are not in the accessibility tree, so there is one match.
 */
export async function answerConfirm(page: Page, expected: RegExp, choice: 'Confirm' | 'Cancel' = 'Confirm'): Promise<string> {
  const dialog = page.getByRole('dialog');
  await dialog.waitFor({ timeout: 10_000 });
  const text = ((await dialog.textContent()) ?? '').replace(/\s+/g, ' ');
  assert.match(text, expected);
  await dialog.getByRole('button', { name: choice, exact: true }).click();
  await dialog.waitFor({ state: 'hidden', timeout: 5000 });
  return text;
}
