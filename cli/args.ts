import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ProtocolError } from '../protocol/errors.js';
import { ENGINE_NAMES, type EngineName } from '../web/miner/engine.js';
import { UsageError } from './usage-error.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses `--name value` options strictly: unknown options and stray arguments are errors. */
export function parseOptions<T extends Options>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    const message = (err as Error).message;
    const ambiguous = /^Option '(--[\w-]+)[^']*' argument is ambiguous/.exec(message);
    if (ambiguous) throw new UsageError(`${ambiguous[1]}: a value starting with "-" must be written ${ambiguous[1]}=VALUE`);
    // node:util's messages name the option; keep their first sentence, one line.
    throw new UsageError(message.split('\n')[0]!.split('. ')[0]!.replace(/\.$/, ''));
  }
}

export function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}

/** An integer option within [min, max]. */
export function integerOption(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name}: "${value}" is not a non-negative integer`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`--${name}: ${value} is outside ${min}..${max}`);
  return n;
}

export function engineOption(value: string | undefined, fallback: EngineName): EngineName {
  if (value === undefined) return fallback;
  if (!(ENGINE_NAMES as readonly string[]).includes(value)) {
    throw new UsageError(`--engine: unknown engine "${value}" (expected ${ENGINE_NAMES.join(', ')})`);
  }
  return value as EngineName;
}

/** Runs a parser of the protocol layer and reports its error against the CLI option. */
export function fromOption<T>(name: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    if (err instanceof ProtocolError) throw new UsageError(`--${name}: ${err.field === name ? err.detail : err.message}`);
    throw err;
  }
}

export function jsonOption(value: string, name: string): unknown {
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new UsageError(`--${name}: not valid JSON (${(err as Error).message})`);
  }
}
