import { ProtocolError } from './errors.js';
import { concatBytes } from './hex.js';

/**
 * Pure builders for the bytes a getblocktemplate pool must produce itself: the coinbase
 * transaction (split around the extranonce slot, as Stratum's coinb1 / coinb2) and the full block
 * that `submitblock` takes. No I/O here, so every byte is checked by unit tests.
 */

const OP_0 = 0x00;
const OP_PUSHDATA1 = 0x4c;
const OP_1 = 0x51;
const OP_RETURN = 0x6a;

/** Core: a coinbase scriptSig must be 2..100 bytes (CheckTransaction, "bad-cb-length"). */
export const MIN_COINBASE_SCRIPTSIG_BYTES = 2;
export const MAX_COINBASE_SCRIPTSIG_BYTES = 100;
/** The coinbase transaction version. Core's miner writes 2 (CTransaction::CURRENT_VERSION). */
export const COINBASE_TX_VERSION = 2;
/** BIP141: the coinbase witness is one 32-byte item, the witness reserved value (all zeros in practice). */
export const WITNESS_RESERVED_VALUE_BYTES = 32;

/** Bitcoin's CompactSize ("varint") encoding of a count or length. */
export function encodeVarInt(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`varint: ${value} is not a non-negative integer`);
  if (value < 0xfd) return Uint8Array.of(value);
  if (value <= 0xffff) return Uint8Array.of(0xfd, value & 0xff, value >>> 8);
  if (value <= 0xffffffff) {
    const out = new Uint8Array(5);
    out[0] = 0xfe;
    new DataView(out.buffer).setUint32(1, value, true);
    return out;
  }
  const out = new Uint8Array(9);
  out[0] = 0xff;
  new DataView(out.buffer).setBigUint64(1, BigInt(value), true);
  return out;
}

/**
 * CScriptNum::serialize: minimal little-endian magnitude with the sign in the top bit of the last
 * byte (an extra 0x00 / 0x80 byte when the magnitude already uses that bit). 0 is the empty vector.
 */
export function scriptNumBytes(value: number): Uint8Array {
  if (!Number.isSafeInteger(value)) throw new RangeError(`script number: ${value} is not an integer`);
  const bytes: number[] = [];
  let magnitude = Math.abs(value);
  while (magnitude > 0) {
    bytes.push(magnitude % 256);
    magnitude = Math.floor(magnitude / 256);
  }
  if (bytes.length > 0) {
    const last = bytes.length - 1;
    if (bytes[last]! & 0x80) bytes.push(value < 0 ? 0x80 : 0x00);
    else if (value < 0) bytes[last] = bytes[last]! | 0x80;
  }
  return Uint8Array.from(bytes);
}

/** A minimal data push (the form Core's `CScript() << vector` writes): direct for <= 75 bytes, else OP_PUSHDATA1. */
export function pushData(data: Uint8Array): Uint8Array {
  if (data.length === 0) return Uint8Array.of(OP_0);
  if (data.length <= 75) return concatBytes(Uint8Array.of(data.length), data);
  if (data.length <= 255) return concatBytes(Uint8Array.of(OP_PUSHDATA1, data.length), data);
  throw new RangeError(`push of ${data.length} bytes is longer than a coinbase scriptSig allows`);
}

/**
 * The BIP34 height prefix of the coinbase scriptSig, byte for byte what Bitcoin Core writes with
 * `CScript() << nHeight` and what ContextualCheckBlock compares against ("bad-cb-height"):
 * CScript::push_int64 emits the opcodes OP_1..OP_16 for 1..16 (not a one-byte data push), OP_0
 * for 0, and otherwise a data push of CScriptNum::serialize(height). Regtest enforces BIP34 from
 * height 1, so the small-height case matters there; mainnet heights take 3 bytes plus the push.
 */
export function bip34HeightPush(height: number): Uint8Array {
  if (!Number.isSafeInteger(height) || height < 0) throw new ProtocolError('height', `${height} is not a block height`);
  if (height === 0) return Uint8Array.of(OP_0);
  if (height <= 16) return Uint8Array.of(OP_1 + height - 1);
  return pushData(scriptNumBytes(height));
}

export interface CoinbaseSpec {
  height: number;
  /** The template's coinbasevalue: subsidy plus fees, in satoshis. */
  valueSats: bigint;
  /** Where the reward goes (a scriptPubKey). */
  payoutScript: Uint8Array;
  /** The template's default_witness_commitment (a whole OP_RETURN scriptPubKey), when it has one. */
  witnessCommitmentScript?: Uint8Array;
  /** Bytes the gateway fills per session and per share. */
  extranonceSize: number;
  /** Free text after the extranonce (a pool signature); must keep the scriptSig <= 100 bytes. */
  tag?: Uint8Array;
}

export interface CoinbaseParts {
  /** version || input count || null prevout || scriptSig length || height push || extranonce push opcode. */
  coinb1: Uint8Array;
  /** tag push || sequence || outputs || locktime. */
  coinb2: Uint8Array;
}

function u32le(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value >>> 0, true);
  return out;
}

function u64le(value: bigint): Uint8Array {
  if (value < 0n || value >= 1n << 64n) throw new RangeError(`output value ${value} is out of range`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, value, true);
  return out;
}

function txOutput(valueSats: bigint, script: Uint8Array): Uint8Array {
  return concatBytes(u64le(valueSats), encodeVarInt(script.length), script);
}

/**
 * The coinbase transaction in its non-witness serialisation (the form whose hash is the txid and
 * the form Stratum carries), split around the extranonce slot.
 *
 * scriptSig = BIP34 height || push opcode for the extranonce || extranonce || push(tag). The
 * extranonce and tag are pushed as data (not raw bytes as some pools write them) so that the
 * scriptSig parses as a well-formed script in explorers; a coinbase scriptSig is never executed,
 * so this costs one byte and changes nothing else. Outputs: the payout, then (for segwit
 * templates) the witness commitment last, as BIP141 wants it at the highest matching index.
 */
export function buildCoinbaseParts(spec: CoinbaseSpec): CoinbaseParts {
  if (!Number.isInteger(spec.extranonceSize) || spec.extranonceSize < 1 || spec.extranonceSize > 75) {
    throw new ProtocolError('extranonceSize', `must be 1..75 bytes, got ${spec.extranonceSize}`);
  }
  if (spec.payoutScript.length === 0) throw new ProtocolError('payoutScript', 'is empty');
  const height = bip34HeightPush(spec.height);
  const tag = spec.tag && spec.tag.length > 0 ? pushData(spec.tag) : new Uint8Array(0);
  const scriptSigBytes = height.length + 1 + spec.extranonceSize + tag.length;
  if (scriptSigBytes < MIN_COINBASE_SCRIPTSIG_BYTES || scriptSigBytes > MAX_COINBASE_SCRIPTSIG_BYTES) {
    throw new ProtocolError(
      'coinbaseTag',
      `coinbase scriptSig would be ${scriptSigBytes} bytes; consensus allows ${MIN_COINBASE_SCRIPTSIG_BYTES}..${MAX_COINBASE_SCRIPTSIG_BYTES}`,
    );
  }
  const outputs = [txOutput(spec.valueSats, spec.payoutScript)];
  if (spec.witnessCommitmentScript) {
    if (spec.witnessCommitmentScript[0] !== OP_RETURN) {
      throw new ProtocolError('default_witness_commitment', 'is not an OP_RETURN script');
    }
    outputs.push(txOutput(0n, spec.witnessCommitmentScript));
  }
  const coinb1 = concatBytes(
    u32le(COINBASE_TX_VERSION),
    encodeVarInt(1),
    new Uint8Array(32), // null prevout hash
    u32le(0xffffffff), // null prevout index
    encodeVarInt(scriptSigBytes),
    height,
    Uint8Array.of(spec.extranonceSize), // direct push of the extranonce slot
  );
  const coinb2 = concatBytes(
    tag,
    u32le(0xffffffff), // sequence
    encodeVarInt(outputs.length),
    ...outputs,
    u32le(0), // locktime
  );
  return { coinb1, coinb2 };
}

/**
 * The BIP144 witness serialisation of a one-input coinbase given its non-witness bytes: marker
 * 0x00 and flag 0x01 after the version, and before the locktime the input's witness, one 32-byte
 * stack item (the witness reserved value, zeros, which default_witness_commitment is built with).
 */
export function coinbaseWithWitness(nonWitness: Uint8Array): Uint8Array {
  if (nonWitness.length < 4 + 1 + 36 + 1 + 4 + 1 + 4) throw new ProtocolError('coinbase', 'too short to be a transaction');
  const witness = concatBytes(encodeVarInt(1), encodeVarInt(WITNESS_RESERVED_VALUE_BYTES), new Uint8Array(WITNESS_RESERVED_VALUE_BYTES));
  return concatBytes(
    nonWitness.subarray(0, 4),
    Uint8Array.of(0x00, 0x01),
    nonWitness.subarray(4, nonWitness.length - 4),
    witness,
    nonWitness.subarray(nonWitness.length - 4),
  );
}

/** A block as `submitblock` takes it: header || tx count || coinbase || the other transactions, in template order. */
export function serializeBlock(header: Uint8Array, coinbase: Uint8Array, transactions: readonly Uint8Array[]): Uint8Array {
  if (header.length !== 80) throw new ProtocolError('header', `must be 80 bytes, got ${header.length}`);
  return concatBytes(header, encodeVarInt(1 + transactions.length), coinbase, ...transactions);
}
