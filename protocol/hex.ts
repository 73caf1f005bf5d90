import { ProtocolError } from './errors.js';

/** Lower-case hex text with an even number of digits, exactly as Stratum puts it on the wire. */
export type Hex = string & { readonly __brand?: 'Hex' };

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

/**
 * Decodes hex into bytes. `field` names the input in the error; `byteLength`, when given, is the
 * exact length the caller needs (a prevhash is 32 bytes, an ntime 4, ...).
 */
export function hexToBytes(hex: unknown, field: string, byteLength?: number): Uint8Array {
  if (typeof hex !== 'string') throw new ProtocolError(field, `expected a hex string, got ${typeof hex}`);
  if (!HEX_RE.test(hex)) {
    throw new ProtocolError(field, hex.length % 2 === 1 ? 'hex has an odd number of digits' : 'not valid hex');
  }
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  if (byteLength !== undefined && bytes.length !== byteLength) {
    throw new ProtocolError(field, `expected ${byteLength} bytes (${2 * byteLength} hex digits), got ${bytes.length}`);
  }
  return bytes;
}

const BYTE_HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function bytesToHex(bytes: Uint8Array): Hex {
  let out = '';
  for (const b of bytes) out += BYTE_HEX[b];
  return out;
}

/** A reversed copy: hashes are stored little-endian ("internal") and shown big-endian ("display"). */
export function reverseBytes(bytes: Uint8Array): Uint8Array {
  return Uint8Array.from(bytes).reverse();
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
