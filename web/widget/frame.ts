// The widget's page inside the partner's iframe, on the DAO's own origin. The contributor consents
// here, with a click the partner page cannot make: the host page can ask, never force.
//
// Trust boundary, deliberately:
// - There is NO 'message' listener in this page. Whatever the host page posts into the frame
//   ("start", fake clicks, settings) is ignored; the only way to start is a trusted click on the
//   Start button (event.isTrusted), which a cross-origin page cannot synthesize.
// - The frame only talks outward: status events posted to window.parent with targetOrigin set to
//   the validated `parent` query parameter, never '*', so no other page can read them.
// - Nothing hashes, connects or opens a worker before the click; the member's key stays in this
//   origin's IndexedDB and only its address goes to the pool.
import { browserTransport, sameOriginStratumUrl } from '../miner/browser-transport.js';
import type { HashEngine } from '../miner/engine.js';
import { Miner } from '../miner/miner.js';
import { PoolClient, type PoolState } from '../miner/pool-client.js';
import { wasmSimdSupported } from '../miner/wasm-support.js';
import { openWorkerEngine } from '../miner/worker-engine.js';
import { openMemberStore } from '../store/member-store.js';
import { readFrameParams } from './frame-params.js';
import type { WidgetEvent, WidgetMessage } from './protocol.js';
import { formatRate } from '../miner/format-rate.js';

type FrameState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped' | 'error';

/** How often the host page hears the hash rate while mining. */
const HASHRATE_EVERY_MS = 2000;

const params = readFrameParams(location.search, location.ancestorOrigins);
document.documentElement.dataset.theme = params.theme;
document.documentElement.dataset.size = params.size;

const main = document.querySelector('main')!;
const startButton = document.querySelector<HTMLButtonElement>('#start')!;
const stopButton = document.querySelector<HTMLButtonElement>('#stop')!;
const statusLine = document.querySelector<HTMLElement>('#status')!;

interface Session {
  miner: Miner;
  engine: HashEngine;
  timer: ReturnType<typeof setInterval>;
}
let session: Session | undefined;
let state: FrameState = 'idle';

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
  startButton.hidden = next === 'running' || next === 'stopping';
  startButton.disabled = next === 'starting';
  stopButton.hidden = !startButton.hidden;
  stopButton.disabled = next === 'stopping';
}

function describe(miner: Miner, pool: PoolState | undefined): string {
  const { hashesPerSecond, accepted, rejected } = miner.stats;
  const connection = pool === 'authorized' ? '' : pool === 'connecting' ? ' · connecting…' : pool ? ` · ${pool}` : '';
  return `Contributing · ${formatRate(hashesPerSecond)} · ${accepted} shares accepted${rejected ? `, ${rejected} rejected` : ''}${connection}`;
}

async function openEngine(): Promise<HashEngine> {
  return openWorkerEngine(wasmSimdSupported() ? 'simd' : 'scalar');
}

/**
 * Browsers that block third-party storage (Chromium with third-party cookies blocked, incognito
 * windows) deny IndexedDB to this frame on a partner's site. Without it the widget cannot keep the
 * member's key, and shares credited to a key that is then lost would be rewards nobody can claim,
 * so it does not mine at all and says where to contribute instead.
 */
function storageBlocked(error: unknown): string {
  const name = error instanceof DOMException ? error.name : '';
  const detail = error instanceof Error ? error.message : String(error);
  if (name === 'UnknownError' || name === 'SecurityError' || /denied|not allowed/i.test(detail)) {
    return `this browser does not let the widget store your member key on a partner's site. Contribute on ${location.host} instead.`;
  }
  return `could not open this widget's storage (${detail})`;
}

async function start(): Promise<void> {
  if (state === 'starting' || state === 'running' || state === 'stopping') return;
  setState('starting', 'Starting…');
  let engine: HashEngine | undefined;
  try {
    const store = await openMemberStore().catch((error: unknown) => {
      throw new Error(storageBlocked(error));
    });
    let address: string;
    try {
      await store.grantConsent(Date.now());
      address = (await store.getOrCreateIdentity()).address;
    } finally {
      store.close();
    }
    engine = await openEngine();
    let poolState: PoolState | undefined;
    const pool = new PoolClient({
      url: sameOriginStratumUrl(location),
      username: address,
      userAgent: params.referral ? `dao-widget/1 ref=${params.referral}` : 'dao-widget/1',
      connect: browserTransport,
    });
    const miner = new Miner(pool, [engine], () => {
      post({ type: 'shares', accepted: miner.stats.accepted, rejected: miner.stats.rejected });
      if (session?.miner === miner) statusLine.textContent = describe(miner, poolState);
    });
    pool.onState((next, detail) => {
      poolState = next;
      if (session?.miner !== miner) return;
      if (next === 'stopped' && detail) {
        // The pool refused the member: nothing more to do until the contributor tries again.
        void stop(`The pool refused this member: ${detail}`);
        return;
      }
      statusLine.textContent = describe(miner, poolState);
    });
    const timer = setInterval(() => {
      if (session?.miner !== miner) return;
      statusLine.textContent = describe(miner, poolState);
      post({ type: 'hashrate', hashesPerSecond: miner.stats.hashesPerSecond, accepted: miner.stats.accepted, rejected: miner.stats.rejected });
    }, HASHRATE_EVERY_MS);
    session = { miner, engine, timer };
    miner.start();
    setState('running', describe(miner, poolState));
    post({ type: 'started' });
  } catch (error) {
    engine?.dispose();
    setState('error', `Could not start: ${error instanceof Error ? error.message : String(error)}`);
    post({ type: 'error' });
  }
}

async function stop(reason = 'Stopped. Nothing runs until you click again.'): Promise<void> {
  const current = session;
  if (!current) return;
  session = undefined;
  setState('stopping', 'Stopping…');
  clearInterval(current.timer);
  try {
    await current.miner.stop();
  } finally {
    current.engine.dispose();
  }
  const { hashesPerSecond, accepted, rejected } = current.miner.stats;
  setState('stopped', `${reason} (${accepted} shares accepted this time)`);
  post({ type: 'stopped', hashesPerSecond, accepted, rejected });
}

// Only a real user gesture inside this frame starts work.
startButton.addEventListener('click', (event) => {
  if (event.isTrusted) void start();
});
stopButton.addEventListener('click', () => void stop());
// Leaving the page ends the work with it (the worker dies anyway; this also closes the socket).
window.addEventListener('pagehide', () => void stop());

setState('idle', 'Nothing runs until you click.');
post({ type: 'ready' });
