import { getAddress, isHexString } from 'ethers';
import { StratumCode, StratumError } from '../../protocol/stratum/errors.js';

export interface MinerIdentity {
  /** Checksummed EVM address: the member credited with the work. */
  member: string;
  /** The worker name after the dot ("default" when none). */
  worker: string;
}

const WORKER_RE = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Reads a Stratum username `0x<address>[.worker]`. A mixed-case address must carry a valid
 * EIP-55 checksum: a typo would otherwise credit work to an address nobody holds.
 */
export function parseUsername(username: unknown): MinerIdentity {
  if (typeof username !== 'string') throw new StratumError(StratumCode.OTHER, 'username must be a string "0x<address>[.worker]"');
  const dot = username.indexOf('.');
  const address = dot === -1 ? username : username.slice(0, dot);
  const worker = dot === -1 ? 'default' : username.slice(dot + 1);
  if (!isHexString(address, 20)) {
    throw new StratumError(StratumCode.OTHER, `invalid member address "${address.slice(0, 64)}": expected 0x and 40 hex digits`);
  }
  let member: string;
  try {
    member = getAddress(address);
  } catch {
    throw new StratumError(StratumCode.OTHER, `invalid member address "${address}": bad EIP-55 checksum`);
  }
  if (!WORKER_RE.test(worker)) throw new StratumError(StratumCode.OTHER, 'worker name must be 1-64 letters, digits, "_" or "-"');
  return { member, worker };
}
