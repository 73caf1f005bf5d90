// Reading the fields of a signed request body. Each reader names the field and what was wrong with
// it, so a wallet integration that sends a number where a string belongs learns exactly that.
import { getAddress, isAddress, isHexString } from 'ethers';
import { HttpError } from '../http/respond.js';

export type Body = Record<string, unknown>;

const MAX_UINT256 = (1n << 256n) - 1n;
const MAX_UINT64 = (1n << 64n) - 1n;

function field(body: Body, name: string): unknown {
  const value = body[name];
  if (value === undefined || value === null) throw new HttpError(400, `missing field "${name}"`);
  return value;
}

function describe(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return `${Array.isArray(value) ? 'array' : typeof value} ${text.length > 60 ? text.slice(0, 60) + '…' : text}`;
}

/** A checksummed address; all-lowercase is accepted, mixed case must carry a valid checksum. */
export function addressField(body: Body, name: string): string {
  const value = field(body, name);
  if (typeof value !== 'string') throw new HttpError(400, `field "${name}" must be an address string, got ${describe(value)}`);
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) throw new HttpError(400, `field "${name}" must be 0x followed by 40 hex digits, got ${describe(value)}`);
  if (!isAddress(value)) throw new HttpError(400, `field "${name}" has a bad EIP-55 checksum: ${value}`);
  return getAddress(value);
}

/** A uint256 given as a decimal string (JSON numbers lose precision past 2^53). */
export function decimalField(body: Body, name: string, max = MAX_UINT256): bigint {
  const value = field(body, name);
  if (typeof value !== 'string') throw new HttpError(400, `field "${name}" must be a decimal string, got ${describe(value)}`);
  if (!/^(0|[1-9][0-9]*)$/.test(value)) throw new HttpError(400, `field "${name}" must be a non-negative decimal integer without sign or leading zeros, got ${describe(value)}`);
  const n = BigInt(value);
  if (n > max) throw new HttpError(400, `field "${name}" is out of range (at most ${max})`);
  return n;
}

/** An integer given as a JSON number or a decimal string (epochs and deadlines are small enough for either). */
export function integerField(body: Body, name: string, max = MAX_UINT64): bigint {
  const value = field(body, name);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw new HttpError(400, `field "${name}" must be a non-negative integer, got ${describe(value)}`);
    if (BigInt(value) > max) throw new HttpError(400, `field "${name}" is out of range (at most ${max})`);
    return BigInt(value);
  }
  if (typeof value === 'string') return decimalField(body, name, max);
  throw new HttpError(400, `field "${name}" must be an integer (number or decimal string), got ${describe(value)}`);
}

/** One of a few small integers (an enum as it is signed: uint8). */
export function choiceField<T extends number>(body: Body, name: string, choices: readonly T[]): T {
  const value = field(body, name);
  if (typeof value !== 'number' || !choices.includes(value as T)) {
    throw new HttpError(400, `field "${name}" must be one of ${choices.join(', ')}, got ${describe(value)}`);
  }
  return value as T;
}

/** 0x and exactly `bytes` bytes of hex. */
export function hexField(body: Body, name: string, bytes: number): string {
  const value = field(body, name);
  if (typeof value !== 'string') throw new HttpError(400, `field "${name}" must be a hex string, got ${describe(value)}`);
  if (!isHexString(value, bytes)) throw new HttpError(400, `field "${name}" must be 0x followed by ${bytes * 2} hex digits (${bytes} bytes), got ${describe(value)}`);
  return value.toLowerCase();
}

export function stringField(body: Body, name: string, maxChars: number): string {
  const value = field(body, name);
  if (typeof value !== 'string') throw new HttpError(400, `field "${name}" must be a string, got ${describe(value)}`);
  if (value.length > maxChars) throw new HttpError(400, `field "${name}" is ${value.length} characters long, over the limit of ${maxChars}`);
  return value;
}

/** Refuses fields the endpoint does not know: a typo ("suport") should not pass as a missing default. */
export function onlyFields(body: Body, allowed: readonly string[]): void {
  const extra = Object.keys(body).filter((key) => !allowed.includes(key));
  if (extra.length) throw new HttpError(400, `unknown field${extra.length > 1 ? 's' : ''} ${extra.map((k) => `"${k}"`).join(', ')}; expected ${allowed.join(', ')}`);
}
