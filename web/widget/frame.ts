// The widget's page inside the partner's iframe, on the DAO's own origin. The contributor consents
// here, with a click the partner page cannot make or trick: the host page can ask, never force.
//
// Trust boundary, deliberately:
// - There is NO 'message' listener for the host page. Whatever it posts into the frame ("start",
//   fake clicks, settings) is ignored; the only way to start is a trusted click on the Start button
//   (event.isTrusted), which a cross-origin page cannot synthesize, while the frame has been fully
//   shown for half a second (visibility-guard.ts), plus a second click elsewhere where the browser
//   cannot see covers or transparency. The one listener, in membership.ts, hears only the connect
//   window this frame opened, on this very origin, with this click's nonce.
// - The frame only talks outward: status events posted to window.parent with targetOrigin set to
//   the validated `parent` query parameter, never '*', so no other page can read them.
// - Nothing hashes, connects or opens a worker before the consent; the member's key stays in this
//   origin's first-party IndexedDB (membership.ts) and only its address goes to the pool.
// - While mining, it pauses whenever it is hidden, off-screen, too small or covered.
import { browserTransport, sameOriginStratumUrl } from '../miner/browser-transport.js';
import type { HashEngine } from '../miner/engine.js';
import { formatRate } from '../miner/format-rate.js';
import { Miner } from '../miner/miner.js';
import { PoolClient, type PoolState } from '../miner/pool-client.js';
import { throttleEngine } from '../miner/throttle.js';
import { wasmSimdSupported } from '../miner/wasm-support.js';
import { openWorkerEngine } from '../miner/worker-engine.js';
import { defaultMinerSettings } from '../store/settings.js';
import { readFrameParams } from './frame-params.js';
import { acquireMember } from './membership.js';
import type { WidgetEvent, WidgetMessage, WidgetPauseReason } from './protocol.js';
import { CONFIRM_DELAY_MS, describeReason, MIN_HEIGHT_PX, MIN_WIDTH_PX, VisibilityGuard } from './visibility-guard.js';

type FrameState = 'idle' | 'confirming' | 'starting' | 'running' | 'paused' | 'stopping' | 'stopped' | 'error';

/** How often the host page hears the hash rate while mining. */
const HASHRATE_EVERY_MS = 2000;
/** A second-step confirmation not clicked within this long lapses. */
const CONFIRM_LAPSES_MS = 15_000;

const params = readFrameParams(location.search, location.ancestorOrigins);
document.documentElement.dataset.theme = params.theme;
document.documentElement.dataset.size = params.size;

const main = document.querySelector('main')!;
const actions = document.querySelector<HTMLElement>('.actions')!;
const confirmRow = document.querySelector<HTMLElement>('.confirm')!;
const startButton = document.querySelector<HTMLButtonElement>('#start')!;
const stopButton = document.querySelector<HTMLButtonElement>('#stop')!;
const confirmButton = document.querySelector<HTMLButtonElement>('#confirm')!;
const cancelButton = document.querySelector<HTMLButtonElement>('#cancel')!;
const statusLine = document.querySelector<HTMLElement>('#status')!;

let state: FrameState = 'idle';
let confirmShownAtMs = 0;
let confirmTimer: ReturnType<typeof setTimeout> | undefined;

/** Posts to the embedding page only, and only to the origin it said it has (never '*'). */
function post(event: WidgetEvent): void {
  if (!params.parentOrigin || window.parent === window) return;
  const message: WidgetMessage = { mark: 'dao-widget', ...event };
  window.parent.postMessage(message, params.parentOrigin);
}

function setState(next: FrameState, text: string): void {
  state = next;
  main.dataset.state = next;
  statusLine.textContent = text;
  const working = next === 'running' || next === 'paused' || next === 'stopping';
  confirmRow.hidden = next !== 'confirming';
  actions.hidden = next === 'confirming';
  startButton.hidden = working;
  startButton.disabled = next === 'starting';
  stopButton.hidden = !working;
  stopButton.disabled = next === 'stopping';
}

// ---------------------------------------------------------------------------------------------
// The mining block: the only code that drives work. startMining / stopMining / pauseMining /
// resumeMining are all the rest of the frame calls, so moving the widget onto a shared
// ContributorSession (with its own pause(reason) / resume(reason)) is an edit of this block alone.
// The current Miner has no pause: pausing stops it (the engine's worker stays, idle) and resuming
// starts it again on the same pool client, which reconnects.
// ---------------------------------------------------------------------------------------------
interface Mining {
  miner: Miner;
  engine: HashEngine;
  timer: ReturnType<typeof setInterval>;
  poolState: PoolState | undefined;
  paused: boolean;
}
let mining: Mining | undefined;

function describe(current: Mining): string {
  const { hashesPerSecond, accepted, rejected } = current.miner.stats;
  const pool = current.poolState;
  const connection = pool === 'authorized' ? '' : pool === 'connecting' ? ' · connecting…' : pool ? ` · ${pool}` : '';
  return `Contributing · ${formatRate(hashesPerSecond)} · ${accepted} shares accepted${rejected ? `, ${rejected} rejected` : ''}${connection}`;
}

async function startMining(address: string, cpuPercent: number): Promise<void> {
  const raw = await openWorkerEngine(wasmSimdSupported() ? 'simd' : 'scalar');
  const engine = throttleEngine(raw, () => cpuPercent);
  const pool = new PoolClient({
    url: sameOriginStratumUrl(location),
    username: address,
    userAgent: params.referral ? `dao-widget/1 ref=${params.referral}` : 'dao-widget/1',
    connect: browserTransport,
  });
  const miner = new Miner(pool, [engine], () => {
    post({ type: 'shares', accepted: miner.stats.accepted, rejected: miner.stats.rejected });
    if (mining?.miner === miner && !mining.paused) statusLine.textContent = describe(mining);
  });
  const current: Mining = {
    miner,
    engine,
    poolState: undefined,
    paused: false,
    timer: setInterval(() => {
      if (mining !== current || current.paused) return;
      statusLine.textContent = describe(current);
      post({ type: 'hashrate', hashesPerSecond: miner.stats.hashesPerSecond, accepted: miner.stats.accepted, rejected: miner.stats.rejected });
    }, HASHRATE_EVERY_MS),
  };
  pool.onState((next, detail) => {
    current.poolState = next;
    if (mining !== current || current.paused) return;
    // The pool refused the member: nothing more to do until the contributor tries again.
    if (next === 'stopped' && detail) void stop(`The pool refused this member: ${detail}`);
    else statusLine.textContent = describe(current);
  });
  mining = current;
  miner.start();
}

async function stopMining(): Promise<Miner['stats'] | undefined> {
  const current = mining;
  if (!current) return undefined;
  mining = undefined;
  clearInterval(current.timer);
  try {
    await current.miner.stop();
  } finally {
    current.engine.dispose();
  }
  return current.miner.stats;
}

async function pauseMining(_reason: WidgetPauseReason): Promise<void> {
  if (!mining || mining.paused) return;
  mining.paused = true;
  await mining.miner.stop();
}

function resumeMining(_reason: WidgetPauseReason): void {
  if (!mining || !mining.paused) return;
  mining.paused = false;
  mining.miner.start();
}
// --------------------------------------------------------------------------- end of mining block

/** What paused the work, while paused; resumed only after the frame is shown again. */
let pausedFor: WidgetPauseReason | undefined;

const guard = new VisibilityGuard(main, (reason) => {
  if (state === 'confirming' && reason !== undefined) lapseConfirmation(`Not started: ${describeReason(reason)}.`);
  if (state === 'running' && reason !== undefined) {
    pausedFor = reason;
    setState('paused', `Paused: ${describeReason(reason)}. It goes on when the widget is fully shown again.`);
    post({ type: 'paused', reason });
    void pauseMining(reason);
  } else if (state === 'paused' && reason === undefined && pausedFor) {
    const was = pausedFor;
    pausedFor = undefined;
    resumeMining(was);
    setState('running', mining ? describe(mining) : 'Contributing');
    post({ type: 'resumed', reason: was });
  }
});

function notShownText(): string {
  const reason = guard.reason();
  const why = reason ? describeReason(reason) : 'it was not shown long enough before the click';
  return `Not started: ${why}. Start works only while the whole widget (at least ${MIN_WIDTH_PX}×${MIN_HEIGHT_PX} px) is plainly visible.`;
}

function lapseConfirmation(text: string): void {
  clearTimeout(confirmTimer);
  setState('idle', text);
}

/**
 * A consent click must be trusted AND come from a pointing device (detail > 0: the click count).
 * A keyboard activation (detail 0) does not count: a host page can move focus into the frame and
 * have the visitor type Space or Enter for something else. Keyboard users contribute on the DAO's
 * own site; Stop works from the keyboard.
 */
function isConsentClick(event: MouseEvent): boolean {
  return event.isTrusted && event.detail > 0;
}

/** The trusted Start click. Where covers cannot be seen, it only asks for a second click elsewhere. */
function onStartClick(event: MouseEvent): void {
  if (!isConsentClick(event)) {
    if (event.isTrusted && state === 'idle') statusLine.textContent = 'Click Start with the mouse or a tap: a key press cannot consent here.';
    return;
  }
  if (state === 'starting' || state === 'running' || state === 'paused' || state === 'stopping') return;
  if (!guard.mayConsent()) {
    setState('idle', notShownText());
    return;
  }
  if (guard.v2) {
    void start();
    return;
  }
  confirmShownAtMs = performance.now();
  setState('confirming', 'Start contributing this tab\u2019s spare CPU? Click \u201cYes, start\u201d to confirm.');
  confirmTimer = setTimeout(() => {
    if (state === 'confirming') lapseConfirmation('Not started: the confirmation lapsed. Nothing runs until you click again.');
  }, CONFIRM_LAPSES_MS);
}

function onConfirmClick(event: MouseEvent): void {
  if (!isConsentClick(event) || state !== 'confirming') return;
  // Too quick to be a person reading the new button: ignore it (the confirmation stays).
  if (performance.now() - confirmShownAtMs < CONFIRM_DELAY_MS) return;
  clearTimeout(confirmTimer);
  if (!guard.mayConsent()) {
    setState('idle', notShownText());
    return;
  }
  void start();
}

/** Runs inside the consent click: acquireMember may need its user activation for a window. */
async function start(): Promise<void> {
  setState('starting', 'Starting…');
  try {
    const member = await acquireMember();
    // The partner may lower the CPU share, never raise it above the contributor's own choice.
    const cpuPercent = Math.min(params.maxCpuPercent, member.cpuPercent ?? defaultMinerSettings().cpuPercent);
    if (state !== 'starting') return;
    await startMining(member.address, cpuPercent);
    setState('running', mining ? describe(mining) : 'Contributing');
    post({ type: 'started' });
    // Hidden or moved while the member was being found: pause at once.
    const reason = guard.reason();
    if (reason) {
      pausedFor = reason;
      setState('paused', `Paused: ${describeReason(reason)}. It goes on when the widget is fully shown again.`);
      post({ type: 'paused', reason });
      await pauseMining(reason);
    }
  } catch (error) {
    await stopMining().catch(() => undefined);
    setState('error', `Could not start: ${error instanceof Error ? error.message : String(error)} Nothing runs.`);
    post({ type: 'error' });
  }
}

async function stop(reason = 'Stopped. Nothing runs until you click again.'): Promise<void> {
  if (!mining) return;
  pausedFor = undefined;
  setState('stopping', 'Stopping…');
  const stats = await stopMining();
  const { hashesPerSecond = 0, accepted = 0, rejected = 0 } = stats ?? {};
  setState('stopped', `${reason} (${accepted} shares accepted this time)`);
  post({ type: 'stopped', hashesPerSecond, accepted, rejected });
}

startButton.addEventListener('click', onStartClick);
confirmButton.addEventListener('click', onConfirmClick);
cancelButton.addEventListener('click', () => lapseConfirmation('Not started. Nothing runs until you click again.'));
stopButton.addEventListener('click', () => void stop());
// Leaving the page ends the work with it (the worker dies anyway; this also closes the socket).
window.addEventListener('pagehide', () => {
  guard.dispose();
  void stop();
});

setState('idle', 'Nothing runs until you click.');
post({ type: 'ready' });
