import { ProtocolError } from './errors.js';
import { bytesToHex, hexToBytes, reverseBytes, type Hex } from './hex.js';
import { sha256dHeader } from './sha256d-fixed.js';

export const HEADER_BYTES = 80;
/** Byte offset of the little-endian nonce, the field every engine varies. */
export const NONCE_OFFSET = 76;

/** The six fields of a block header. Hashes are in internal (little-endian) byte order. */
export interface HeaderFields {
  version: number;
  prevhash: Uint8Array;
  merkleRoot: Uint8Array;
  ntime: number;
  bits: number;
  nonce: number;
}

export function serializeHeader(fields: HeaderFields): Uint8Array {
  if (fields.prevhash.length !== 32) throw new ProtocolError('prevhash', 'must be 32 bytes');
  if (fields.merkleRoot.length !== 32) throw new ProtocolError('merkleRoot', 'must be 32 bytes');
  const header = new Uint8Array(HEADER_BYTES);
  const view = new DataView(header.buffer);
  view.setUint32(0, fields.version >>> 0, true);
  header.set(fields.prevhash, 4);
  header.set(fields.merkleRoot, 36);
  view.setUint32(68, fields.ntime >>> 0, true);
  view.setUint32(72, fields.bits >>> 0, true);
  view.setUint32(NONCE_OFFSET, fields.nonce >>> 0, true);
  return header;
}

export function parseHeader(header: Uint8Array): HeaderFields {
  checkHeader(header);
  const view = new DataView(header.buffer, header.byteOffset, HEADER_BYTES);
  return {
    version: view.getUint32(0, true),
    prevhash: header.slice(4, 36),
    merkleRoot: header.slice(36, 68),
    ntime: view.getUint32(68, true),
    bits: view.getUint32(72, true),
    nonce: view.getUint32(NONCE_OFFSET, true),
  };
}

/** Decodes an 80-byte header given as 160 hex digits. */
export function headerFromHex(hex: unknown, field = 'header'): Uint8Array {
  return hexToBytes(hex, field, HEADER_BYTES);
}

export function checkHeader(header: Uint8Array): void {
  if (header.length !== HEADER_BYTES) throw new ProtocolError('header', `must be ${HEADER_BYTES} bytes, got ${header.length}`);
}

/** A copy of the header with another nonce. */
export function withNonce(header: Uint8Array, nonce: number): Uint8Array {
  checkHeader(header);
  const copy = Uint8Array.from(header);
  new DataView(copy.buffer).setUint32(NONCE_OFFSET, nonce >>> 0, true);
  return copy;
}

/** The raw double SHA-256 of a header (internal byte order). */
export function headerHash(header: Uint8Array): Uint8Array {
  checkHeader(header);
  return sha256dHeader(header);
}

/** The block hash as explorers show it (display order). */
export function blockHash(header: Uint8Array): Hex {
  return bytesToHex(reverseBytes(headerHash(header)));
}
