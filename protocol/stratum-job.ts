import { ProtocolError } from './errors.js';
import { bytesToHex, hexToBytes, hexToU32, type Hex } from './hex.js';
import { parseMerkleBranch } from './merkle.js';

/** A mining job as `mining.notify` carries it, decoded and checked. */
export interface StratumJob {
  jobId: string;
  /** Previous block hash in internal byte order (already un-swapped from Stratum's word order). */
  prevhash: Uint8Array;
  coinb1: Uint8Array;
  coinb2: Uint8Array;
  merkleBranch: Uint8Array[];
  version: number;
  bits: number;
  ntime: number;
  cleanJobs: boolean;
}

/** A `mining.submit`, decoded and checked. `versionBits` is present only with version rolling. */
export interface ShareSubmission {
  worker: string;
  jobId: string;
  extranonce2: Uint8Array;
  ntime: number;
  nonce: number;
  versionBits?: number;
}

/** Largest coinbase part we accept: a whole coinbase must fit in a block, far below this. */
const MAX_COINBASE_PART_BYTES = 100_000;
const MAX_BRANCH_LENGTH = 32;

/**
 * Stratum sends the previous-block hash as the internal bytes with each 4-byte word reversed.
 * This swaps each word back (the swap is its own inverse, so it also encodes).
 */
export function swapWords(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i < bytes.length; i += 4) {
    out[i] = bytes[i + 3]!;
    out[i + 1] = bytes[i + 2]!;
    out[i + 2] = bytes[i + 1]!;
    out[i + 3] = bytes[i]!;
  }
  return out;
}

function jobIdOf(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 64) {
    throw new ProtocolError(field, 'expected a job id string of 1-64 characters');
  }
  return value;
}

/** Decodes the params array of `mining.notify`, exactly as on the wire. */
export function parseNotifyParams(params: unknown): StratumJob {
  if (!Array.isArray(params) || params.length < 9) {
    throw new ProtocolError('notify', 'expected 9 params: job_id, prevhash, coinb1, coinb2, merkle_branch, version, nbits, ntime, clean_jobs');
  }
  const [jobId, prevhash, coinb1, coinb2, branch, version, nbits, ntime, clean] = params as unknown[];
  const coinb1Bytes = hexToBytes(coinb1, 'coinb1');
  const coinb2Bytes = hexToBytes(coinb2, 'coinb2');
  if (coinb1Bytes.length > MAX_COINBASE_PART_BYTES || coinb2Bytes.length > MAX_COINBASE_PART_BYTES) {
    throw new ProtocolError('coinb1', 'coinbase parts are too long');
  }
  const merkleBranch = parseMerkleBranch(branch);
  if (merkleBranch.length > MAX_BRANCH_LENGTH) throw new ProtocolError('merkle_branch', `more than ${MAX_BRANCH_LENGTH} entries`);
  if (typeof clean !== 'boolean') throw new ProtocolError('clean_jobs', 'expected true or false');
  return {
    jobId: jobIdOf(jobId, 'job_id'),
    prevhash: swapWords(hexToBytes(prevhash, 'prevhash', 32)),
    coinb1: coinb1Bytes,
    coinb2: coinb2Bytes,
    merkleBranch,
    version: hexToU32(version, 'version'),
    bits: hexToU32(nbits, 'nbits'),
    ntime: hexToU32(ntime, 'ntime'),
    cleanJobs: clean,
  };
}

/** Decodes the params array of `mining.submit`: 5 params, or 6 with BIP310 version bits. */
export function parseSubmitParams(params: unknown): ShareSubmission {
  if (!Array.isArray(params) || (params.length !== 5 && params.length !== 6)) {
    throw new ProtocolError('submit', 'expected 5 or 6 params: worker, job_id, extranonce2, ntime, nonce[, version_bits]');
  }
  const [worker, jobId, extranonce2, ntime, nonce, versionBits] = params as unknown[];
  if (typeof worker !== 'string' || worker.length > 256) throw new ProtocolError('worker', 'expected a worker name string');
  const submission: ShareSubmission = {
    worker,
    jobId: jobIdOf(jobId, 'job_id'),
    extranonce2: hexToBytes(extranonce2, 'extranonce2'),
    ntime: hexToU32(ntime, 'ntime'),
    nonce: hexToU32(nonce, 'nonce'),
  };
  if (params.length === 6) submission.versionBits = hexToU32(versionBits, 'version_bits');
  return submission;
}

/** Encodes an internal-order prevhash for `mining.notify`. */
export function prevhashToStratum(prevhash: Uint8Array): Hex {
  return bytesToHex(swapWords(prevhash));
}
