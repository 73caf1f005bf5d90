// Pure rules for the consent and miner-settings records: defaults, validation and clamping. No
// IndexedDB here, so the rules read in one place and member-store.ts only stores what they return.
import type { Consent, MinerSettings } from './schema.js';

export const MIN_CPU_PERCENT = 10;
export const MAX_CPU_PERCENT = 100;

/** Logical cores the browser reports (window and worker alike); 1 where it does not say. */
export function reportedCores(): number {
  const cores = typeof navigator === 'undefined' ? undefined : navigator.hardwareConcurrency;
  return typeof cores === 'number' && Number.isFinite(cores) && cores >= 1 ? Math.floor(cores) : 1;
}

/**
 * Settings before the member chose any: modest on purpose (DESIGN.md, "Respect for the
 * contributor's device"). Half the CPU duty cycle on all cores but one (so the page and the rest of
 * the device keep a core), no GPU until asked for, and pausing whenever the tab is hidden or the
 * battery runs low while not charging.
 */
export function defaultMinerSettings(cores = reportedCores()): MinerSettings {
  return {
    cpuPercent: 50,
    threads: Math.max(1, Math.floor(cores) - 1),
    useGpu: false,
    pauseWhenHidden: true,
    pauseOnBattery: true,
  };
}

const BOOLEAN_SETTINGS = ['useGpu', 'pauseWhenHidden', 'pauseOnBattery'] as const;
const KNOWN_SETTINGS = new Set<string>(['cpuPercent', 'threads', ...BOOLEAN_SETTINGS]);

function finiteNumber(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`${name} must be a finite number, got ${JSON.stringify(value) ?? String(value)}`);
  }
  return value;
}

/**
 * Merges `changes` over `current` and returns settings that obey the rules:
 * - cpuPercent: rounded to an integer and clamped to 10..100 (below 10% a duty cycle is mostly
 *   start-up overhead; a slider can overshoot, so out-of-range numbers are clamped, not refused);
 * - threads: an integer, at least 1 and at most the reported cores (more workers than cores only
 *   makes the device slower, not the mining faster);
 * - the switches must be booleans.
 * Values of the wrong type and unknown names are refused with an Error naming them: they are bugs
 * in the caller, and storing them would only move the failure to the next start.
 */
export function mergeMinerSettings(current: MinerSettings, changes: Partial<MinerSettings>, cores = reportedCores()): MinerSettings {
  for (const name of Object.keys(changes)) {
    if (!KNOWN_SETTINGS.has(name)) throw new Error(`unknown miner setting "${name}"`);
  }
  const next: MinerSettings = { ...current };
  for (const [name, value] of Object.entries(changes)) {
    // An explicit undefined (e.g. a spread of an optional field) changes nothing.
    if (value === undefined) continue;
    if (name === 'cpuPercent') {
      next.cpuPercent = Math.min(MAX_CPU_PERCENT, Math.max(MIN_CPU_PERCENT, Math.round(finiteNumber(name, value))));
    } else if (name === 'threads') {
      next.threads = Math.min(Math.max(1, cores), Math.max(1, Math.floor(finiteNumber(name, value))));
    } else {
      if (typeof value !== 'boolean') throw new Error(`${name} must be true or false, got ${JSON.stringify(value)}`);
      next[name as (typeof BOOLEAN_SETTINGS)[number]] = value;
    }
  }
  return next;
}

/**
 * Settings as read from the store: the defaults, overlaid with what was stored and passed through
 * the same rules, so a record from an older release (a missing field) or one that no longer fits
 * this device (fewer cores) still comes out valid. Fields that fail the rules fall back to the
 * default rather than making the settings unreadable.
 */
export function readMinerSettings(stored: Partial<MinerSettings> | undefined, cores = reportedCores()): MinerSettings {
  let settings = defaultMinerSettings(cores);
  for (const [name, value] of Object.entries(stored ?? {})) {
    try {
      settings = mergeMinerSettings(settings, { [name]: value }, cores);
    } catch {
      // keep the default for this field
    }
  }
  return settings;
}

function timestampMs(nowMs: number): number {
  if (!Number.isFinite(nowMs) || nowMs < 0) throw new Error(`nowMs must be a time in ms since the epoch, got ${nowMs}`);
  return nowMs;
}

/** Consent granted at `nowMs`; a new grant replaces any earlier withdrawal. */
export function grantedConsent(nowMs: number, mobileOptIn: boolean): Consent {
  if (typeof mobileOptIn !== 'boolean') throw new Error(`mobileOptIn must be true or false, got ${JSON.stringify(mobileOptIn)}`);
  return { granted: true, grantedAtMs: timestampMs(nowMs), mobileOptIn };
}

/**
 * Consent withdrawn at `nowMs`, keeping when it had been granted (the member's history of what
 * they allowed). Withdrawing what was never granted changes nothing: there is nothing to record.
 * Withdrawal also ends the mobile opt-in, so a later grant asks for it again.
 */
export function withdrawnConsent(current: Consent | undefined, nowMs: number): Consent | undefined {
  if (!current) return undefined;
  if (!current.granted) return current;
  return { granted: false, grantedAtMs: current.grantedAtMs, withdrawnAtMs: timestampMs(nowMs), mobileOptIn: false };
}
