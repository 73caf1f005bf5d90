/**
 * Polls `probe` until it gives something other than undefined or false, and resolves with that;
 * fails naming `what` after `timeoutMs`. The one way the tests wait for a condition they cannot
 * await directly (a row in a ledger, a root on-chain, a line on a page).
 */
export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
