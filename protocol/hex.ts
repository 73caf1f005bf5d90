import { ProtocolError } from './errors.js';

/** Lower-case hex text with an even number of digits, exactly as Stratum puts it on the wire. */
export type Hex = string & { readonly __brand?: 'Hex' };

/**
 * Decodes hex into bytes. `field` names the input in the error; `byteLength`, when given, is the
 * exact length the caller needs (a prevhash is 32 bytes, an ntime 4, ...).
 */
export function hexToBytes(hex: unknown, field: string, byteLength?: number): Uint8Array {
  if (typeof hex !== 'string') throw new ProtocolError(field, `expected a hex string, got ${typeof hex}`);
  if (hex.length % 2 === 1) throw new ProtocolError(field, 'hex has an odd number of digits');
  // Digit by digit from the char codes: a share carries several hex fields, and a slice per byte
  // was garbage the gateway made thousands of times a second.
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) {
    const high = hexDigitValue(hex.charCodeAt(2 * i));
    const low = hexDigitValue(hex.charCodeAt(2 * i + 1));
    if ((high | low) < 0) throw new ProtocolError(field, 'not valid hex');
    bytes[i] = (high << 4) | low;
  }
  if (byteLength !== undefined && bytes.length !== byteLength) {
    throw new ProtocolError(field, `expected ${byteLength} bytes (${2 * byteLength} hex digits), got ${bytes.length}`);
  }
  return bytes;
}

/** The value of one hex digit's char code, or -1. */
export function hexDigitValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 97 && code <= 102) return code - 87; // a-f
  if (code >= 65 && code <= 70) return code - 55; // A-F
  return -1;
}

const DIGIT_CODES = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
/** Bytes per String.fromCharCode call: its arguments stay well under engines' limits. */
const HEX_CHUNK_BYTES = 4096;
let hexCodes = new Uint16Array(2 * 64);

/**
 * Lower-case hex of `bytes`, built as one string from its char codes: appending two digits at a
 * time made a chain of intermediate strings per call (a share hash is 32 of them).
 */
export function bytesToHex(bytes: Uint8Array): Hex {
  if (bytes.length > HEX_CHUNK_BYTES) {
    const parts: string[] = [];
    for (let at = 0; at < bytes.length; at += HEX_CHUNK_BYTES) parts.push(bytesToHex(bytes.subarray(at, at + HEX_CHUNK_BYTES)));
    return parts.join('');
  }
  if (hexCodes.length < 2 * bytes.length) hexCodes = new Uint16Array(2 * HEX_CHUNK_BYTES);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    hexCodes[2 * i] = DIGIT_CODES[b >>> 4]!;
    hexCodes[2 * i + 1] = DIGIT_CODES[b & 15]!;
  }
  return String.fromCharCode.apply(null, hexCodes.subarray(0, 2 * bytes.length) as unknown as number[]);
}

/** Whether two byte strings are equal, byte for byte. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A reversed copy: hashes are stored little-endian ("internal") and shown big-endian ("display"). */
export function reverseBytes(bytes: Uint8Array): Uint8Array {
  return bytes.slice().reverse();
}

/** Parses the 8-digit big-endian hex that Stratum uses for version, nbits, ntime and nonce. */
export function hexToU32(hex: unknown, field: string): number {
  const bytes = hexToBytes(hex, field, 4);
  return ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
}

export function u32ToHex(value: number): Hex {
  return (value >>> 0).toString(16).padStart(8, '0');
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Big-endian bytes as an unsigned integer. */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt('0x' + bytesToHex(bytes));
}

/** An unsigned integer as exactly `byteLength` big-endian bytes. */
export function bigIntToBytes(value: bigint, byteLength: number): Uint8Array {
  if (value < 0n || value >> BigInt(8 * byteLength) !== 0n) {
    throw new RangeError(`${value} does not fit in ${byteLength} bytes`);
  }
  return hexToBytes(value.toString(16).padStart(2 * byteLength, '0'), 'value', byteLength);
}
