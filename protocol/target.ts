import { ProtocolError } from './errors.js';
import { bytesToBigInt, reverseBytes } from './hex.js';

/** A 256-bit proof-of-work target: a hash is good enough iff its display-order value is <= target. */
export type Target = bigint;
/** Share or network difficulty: DIFF1_TARGET / target. Fractional for browser miners. */
export type Difficulty = number;
/** Expected hashes, the unit credit is counted in: a share at difficulty d is worth d * 2^32. */
export type Work = number;

/** Difficulty 1: 0xFFFF * 2^208, the target of bits 0x1d00ffff (Bitcoin Core, cgminer, ckpool). */
export const DIFF1_TARGET: Target = 0xffffn << 208n;
export const MAX_TARGET: Target = (1n << 256n) - 1n;

export interface DecodedBits {
  target: Target;
  /** Bitcoin Core's SetCompact flags a set sign bit (0x00800000) as a negative, invalid target. */
  negative: boolean;
  /** The mantissa shifted past 256 bits. */
  overflow: boolean;
}

/** Decodes compact nBits the way Bitcoin Core does, reporting the cases Core treats as invalid. */
export function decodeBits(bits: number): DecodedBits {
  const exponent = bits >>> 24;
  const mantissa = BigInt(bits & 0x007fffff);
  const target = exponent <= 3 ? mantissa >> BigInt(8 * (3 - exponent)) : mantissa << BigInt(8 * (exponent - 3));
  return {
    target,
    negative: mantissa !== 0n && (bits & 0x00800000) !== 0,
    overflow: target > MAX_TARGET,
  };
}

/** The target of a block's nBits; a negative or overflowing encoding is an error, as in Core. */
export function bitsToTarget(bits: number): Target {
  const decoded = decodeBits(bits);
  if (decoded.negative) throw new ProtocolError('nbits', `0x${bits.toString(16)} has the sign bit set (negative target)`);
  if (decoded.overflow) throw new ProtocolError('nbits', `0x${bits.toString(16)} overflows 256 bits`);
  return decoded.target;
}

/** The compact nBits of a target (rounding down, as Core's GetCompact does). */
export function targetToBits(target: Target): number {
  if (target <= 0n || target > MAX_TARGET) throw new ProtocolError('target', 'must be in 1..2^256-1');
  let size = Math.ceil(target.toString(16).length / 2);
  let mantissa = size <= 3 ? Number(target << BigInt(8 * (3 - size))) : Number(target >> BigInt(8 * (size - 3)));
  if (mantissa & 0x00800000) {
    mantissa >>>= 8;
    size += 1;
  }
  return ((size << 24) | mantissa) >>> 0;
}

const DIFFICULTY_RE = /^(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/**
 * A difficulty read as the exact decimal a person or a pool wrote ("0.001", "1e-9", 512), so that
 * the target is exactly DIFF1 / d: the float 0.001 is not 1/1000, and a pool that says 0.001 means
 * 1/1000 (cpuminer prints diff1 * 1000 for it). Returns the fraction numerator / denominator.
 */
export function parseDifficulty(value: unknown, field = 'difficulty'): { numerator: bigint; denominator: bigint } {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string') throw new ProtocolError(field, `expected a number, got ${typeof value}`);
  const m = DIFFICULTY_RE.exec(text.trim());
  if (!m) throw new ProtocolError(field, `"${text}" is not a positive decimal number`);
  const fraction = m[2] ?? '';
  const exponent = Number(m[3] ?? '0') - fraction.length;
  if (Math.abs(exponent) > 400) throw new ProtocolError(field, `"${text}" is out of range`);
  let numerator = BigInt(m[1]! + fraction);
  let denominator = 1n;
  if (exponent >= 0) numerator *= 10n ** BigInt(exponent);
  else denominator = 10n ** BigInt(-exponent);
  if (numerator === 0n) throw new ProtocolError(field, 'must be greater than 0');
  return { numerator, denominator };
}

/** The share target for a difficulty, exact: floor(DIFF1 / d), clamped to 2^256 - 1. */
export function difficultyToTarget(difficulty: Difficulty | string): Target {
  const { numerator, denominator } = parseDifficulty(difficulty);
  const target = (DIFF1_TARGET * denominator) / numerator;
  if (target === 0n) throw new ProtocolError('difficulty', `${difficulty} is above the largest difficulty`);
  return target > MAX_TARGET ? MAX_TARGET : target;
}

/** DIFF1 / target as a float64, correctly rounded to well within 1e-15 relative. */
export function targetToDifficulty(target: Target): Difficulty {
  if (target <= 0n) return Infinity;
  // Scale before dividing so the integer quotient keeps far more than 53 significant bits.
  return Number((DIFF1_TARGET << 128n) / target) / 2 ** 128;
}

/** The difficulty a hash achieves; `hashInternal` is the raw (little-endian) double SHA-256. */
export function hashToDifficulty(hashInternal: Uint8Array): Difficulty {
  return targetToDifficulty(hashValue(hashInternal));
}

/** A raw (internal-order) hash as the integer compared against targets. */
export function hashValue(hashInternal: Uint8Array): bigint {
  return bytesToBigInt(reverseBytes(hashInternal));
}

/** The expected number of hashes to find one share at this difficulty. */
export function difficultyToWork(difficulty: Difficulty): Work {
  return difficulty * 2 ** 32;
}

/** The eight 32-bit words of a target, most significant first: what the engines compare against. */
export function targetToWords(target: Target): Uint32Array {
  const words = new Uint32Array(8);
  for (let i = 0; i < 8; i++) words[i] = Number((target >> BigInt(32 * (7 - i))) & 0xffffffffn);
  return words;
}
