// What a ContributorSession is given, with its defaults, checked once with precise errors.
import type { MemberStore } from '../store/member-store.js';
import { reportedCores } from '../store/settings.js';
import { checkCpuPercent } from './cpu-ceiling.js';

export interface ContributorSessionOptions {
  /** The member credited with the work, or a function that gives it at start (the app creates its key on the first click). */
  address: string | (() => Promise<string>);
  /**
   * 'indexeddb': every share and its answer are kept in the member store (`store`, or the
   * default `dao-member` database opened at the first start). 'none': address-only mode, nothing
   * is stored (the widget on a partner's site).
   */
  storage: 'none' | 'indexeddb';
  store?: MemberStore;
  /** The database to open in store mode when no `store` is given (tests use their own). */
  dbName?: string;
  /** The gateway's Stratum WebSocket; by default /stratum on this page's origin. */
  poolUrl?: string;
  userAgent?: string;
  /** The user's CPU-use setting, 10..100 (default 50): callers may lower the duty cycle below it, never raise it above. */
  cpuCeiling?: number;
  /** Worker threads (default: the reported cores less one, at least one). */
  threads?: number;
  useGpu?: boolean;
  build?: 'scalar' | 'simd';
  /** Pause while the tab is hidden (default true). */
  pauseWhenHidden?: boolean;
  /** Pause on a low battery that is not charging (default true). Save-Data always pauses. */
  pauseOnBattery?: boolean;
  /** How often 'stats' is told while mining (default 1000 ms). */
  statsIntervalMs?: number;
  /** How long a stop or pause waits for the pool's answers to shares in flight (default 2000 ms). */
  drainMs?: number;
}

/** The settings that may change on a session (threads and the GPU from the next run on). */
export interface ContributorSettings {
  cpuCeiling: number;
  threads: number;
  useGpu: boolean;
  pauseWhenHidden: boolean;
  pauseOnBattery: boolean;
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

export function checkAddress(address: unknown): string {
  if (typeof address !== 'string' || !ADDRESS.test(address)) {
    throw new Error(`address must be 0x and 40 hex digits, got ${JSON.stringify(address) ?? String(address)}`);
  }
  return address;
}

function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${name} must be true or false, got ${JSON.stringify(value)}`);
  return value;
}

function checkThreads(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 256) {
    throw new RangeError(`threads must be an integer in 1..256, got ${JSON.stringify(value) ?? String(value)}`);
  }
  return value;
}

/** `changes` over `current`, each checked; unknown names are refused. */
export function mergeSettings(current: ContributorSettings, changes: Partial<ContributorSettings>): ContributorSettings {
  const next = { ...current };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    if (name === 'cpuCeiling') next.cpuCeiling = checkCpuPercent(name, value);
    else if (name === 'threads') next.threads = checkThreads(value);
    else if (name === 'useGpu' || name === 'pauseWhenHidden' || name === 'pauseOnBattery') next[name] = checkBoolean(name, value);
    else throw new Error(`unknown contributor setting "${name}"`);
  }
  return next;
}

export function initialSettings(options: ContributorSessionOptions): ContributorSettings {
  if (options.storage !== 'none' && options.storage !== 'indexeddb') {
    throw new Error(`storage must be 'none' or 'indexeddb', got ${JSON.stringify(options.storage)}`);
  }
  if (typeof options.address === 'string') checkAddress(options.address);
  else if (typeof options.address !== 'function') throw new Error('address must be an address or a function that gives one');
  const defaults: ContributorSettings = {
    cpuCeiling: 50,
    threads: Math.max(1, reportedCores() - 1),
    useGpu: false,
    pauseWhenHidden: true,
    pauseOnBattery: true,
  };
  return mergeSettings(defaults, {
    ...(options.cpuCeiling !== undefined ? { cpuCeiling: options.cpuCeiling } : {}),
    ...(options.threads !== undefined ? { threads: options.threads } : {}),
    ...(options.useGpu !== undefined ? { useGpu: options.useGpu } : {}),
    ...(options.pauseWhenHidden !== undefined ? { pauseWhenHidden: options.pauseWhenHidden } : {}),
    ...(options.pauseOnBattery !== undefined ? { pauseOnBattery: options.pauseOnBattery } : {}),
  });
}
