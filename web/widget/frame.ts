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
import { ContributorSession, type ContributorStats } from '../contributor/session.js';
import { sameOriginStratumUrl } from '../miner/browser-transport.js';
import { formatRate } from '../miner/format-rate.js';
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
// The mining block: the widget is a thin view of the one ContributorSession the app uses too
// (web/contributor/): engines, pool client, the CPU-use duty cycle, the pause rules (hidden tab,
// low battery, Save-Data) and the one share tally. Address-only mode: the frame holds no key and
// keeps no records; the member's key and records live on the DAO's own site (membership.ts).
// ---------------------------------------------------------------------------------------------
let session: ContributorSession | undefined;
let hashrateTimer: ReturnType<typeof setInterval> | undefined;

function describe(stats: ContributorStats): string {
  const { hashesPerSecond, shares, pool } = stats;
  const connection = pool === 'authorized' ? '' : pool === 'connecting' ? ' · connecting…' : ` · ${pool}`;
  return `Contributing · ${formatRate(hashesPerSecond)} · ${shares.accepted} shares accepted${shares.rejected ? `, ${shares.rejected} rejected` : ''}${connection}`;
}

/** The pause reasons the host page hears (the session's own and the visibility guard's). */
const WIDGET_PAUSE_REASONS: readonly WidgetPauseReason[] = ['hidden', 'off-screen', 'too-small', 'obscured', 'battery', 'save-data'];

function isWidgetReason(reason: string): reason is WidgetPauseReason {
  return (WIDGET_PAUSE_REASONS as readonly string[]).includes(reason);
}

async function startMining(address: string, cpuPercent: number): Promise<void> {
  const current = new ContributorSession({
    address,
    storage: 'none',
    poolUrl: sameOriginStratumUrl(location),
    userAgent: params.referral ? `dao-widget/1 ref=${params.referral}` : 'dao-widget/1',
    cpuCeiling: cpuPercent,
    // One worker: a partner page's visitor lends spare CPU, not the whole machine.
    threads: 1,
  });
  session = current;
  current.on('share', ({ shares }) => post({ type: 'shares', accepted: shares.accepted, rejected: shares.rejected }));
  current.on('stats', (stats) => {
    if (session !== current) return;
    // The measured duty cycle, for the contributor's inspector and the tests (0..1 over 5 s).
    if (stats.measuredCpuShare !== undefined) main.dataset.cpuShare = stats.measuredCpuShare.toFixed(3);
    if (state === 'running') statusLine.textContent = describe(stats);
  });
  current.on('paused', ({ reason, detail }) => {
    if (session === current) showPaused(reason, detail);
  });
  current.on('resumed', ({ reason }) => {
    if (session === current) showResumed(reason);
  });
  current.on('state', (next) => {
    const error = current.snapshot().error;
    // The pool refused the member: nothing more to do until the contributor tries again.
    if (session === current && next === 'idle' && error && state !== 'starting') void stop(`Stopped: ${error}.`);
  });
  await current.start();
  const error = current.snapshot().error;
  if (error) throw new Error(`${error}.`);
  hashrateTimer = setInterval(() => {
    if (session !== current) return;
    const { hashesPerSecond, shares } = current.snapshot();
    post({ type: 'hashrate', hashesPerSecond, accepted: shares.accepted, rejected: shares.rejected });
  }, HASHRATE_EVERY_MS);
}

async function stopMining(): Promise<{ hashesPerSecond: number; accepted: number; rejected: number } | undefined> {
  const current = session;
  if (!current) return undefined;
  session = undefined;
  clearInterval(hashrateTimer);
  // The rate reads 0 once stopped: take it first.
  const { hashesPerSecond } = current.snapshot();
  await current.dispose();
  const { accepted, rejected } = current.snapshot().shares;
  return { hashesPerSecond, accepted, rejected };
}

function pauseMining(reason: WidgetPauseReason): void {
  void session?.pause(reason, describeReason(reason));
}

function resumeMining(reason: WidgetPauseReason): void {
  void session?.resume(reason);
}
// --------------------------------------------------------------------------- end of mining block

/** The session paused for `reason` (the visibility guard's, or a device rule's): say so, here and to the host page. */
function showPaused(reason: string, detail: string): void {
  if (state !== 'running' && state !== 'paused') return;
  setState('paused', `Paused: ${detail}. It goes on by itself when that changes.`);
  if (isWidgetReason(reason)) post({ type: 'paused', reason });
}

function showResumed(reason: string): void {
  if (state !== 'paused' || !session) return;
  const still = session.snapshot().paused;
  if (still.length > 0) setState('paused', `Paused: ${still[0]!.detail}. It goes on by itself when that changes.`);
  else setState('running', describe(session.snapshot()));
  if (isWidgetReason(reason)) post({ type: 'resumed', reason });
}

/** The visibility guard's reason now held on the session, if any. */
let guardReason: WidgetPauseReason | undefined;

const guard = new VisibilityGuard(main, (reason) => {
  if (state === 'confirming' && reason !== undefined) lapseConfirmation(`Not started: ${describeReason(reason)}.`);
  if (state !== 'running' && state !== 'paused') return;
  if (reason === guardReason) return;
  const was = guardReason;
  guardReason = reason;
  // Hold the new reason before letting the old one go, so no work runs in between.
  if (reason) pauseMining(reason);
  if (was) resumeMining(was);
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
    // Hidden or moved while the member was being found: start paused.
    guardReason = guard.reason();
    await startMining(member.address, cpuPercent);
    setState('running', session ? describe(session.snapshot()) : 'Contributing');
    post({ type: 'started' });
    if (guardReason) pauseMining(guardReason);
    const held = session?.snapshot().paused ?? [];
    for (const { reason, detail } of held) showPaused(reason, detail);
  } catch (error) {
    await stopMining().catch(() => undefined);
    guardReason = undefined;
    setState('error', `Could not start: ${error instanceof Error ? error.message : String(error)} Nothing runs.`);
    post({ type: 'error' });
  }
}

async function stop(reason = 'Stopped. Nothing runs until you click again.'): Promise<void> {
  if (!session) return;
  guardReason = undefined;
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
