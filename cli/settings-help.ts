import { SETTINGS } from '../server/config.js';

/** Help column: the longest flag and two spaces, so no flag runs into its text. */
const FLAG_COLUMN = Math.max(24, ...SETTINGS.map((s) => s.flag.length + 2));

/** One help line: the flag, padded to the column, and its text. */
export function helpLine(flag: string, text: string): string {
  return `  --${flag.padEnd(FLAG_COLUMN)}${text}`;
}

/**
 * The gateway's settings as help lines (dao-gateway and dao-local share them, from config.ts).
 * `changed` maps a flag to what a mode sets it to instead of the gateway's default, shown after
 * its text, so a reader of dao-local --help sees which defaults local mode changes.
 */
export function settingsHelp(changed: Readonly<Record<string, string>> = {}): string {
  return SETTINGS.map((s) => helpLine(s.flag, changed[s.flag] === undefined ? s.help : `${s.help} [here: ${changed[s.flag]}]`)).join('\n');
}
