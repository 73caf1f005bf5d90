// EIP-712 signature checks before the relayer spends gas. They refuse exactly what the contracts'
// OpenZeppelin ECDSA.tryRecover refuses: ethers would accept a high-s signature (and recover the
// same signer from it), but the chain would revert it, so it is caught here by hand.
import { verifyTypedData, type TypedDataDomain } from 'ethers';
import { HttpError } from '../http/respond.js';
import type { Types } from '../../protocol/dao/typed-data.js';

/** The secp256k1 group order. */
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const HALF_N = SECP256K1_N / 2n;

/**
 * Checks the 65-byte r‖s‖v encoding (`signature` is already 0x + 130 hex digits): v must be 27 or
 * 28 and s in the lower half of the curve order (EIP-2), r and s non-zero.
 */
export function checkSignatureEncoding(signature: string): void {
  const r = BigInt('0x' + signature.slice(2, 66));
  const s = BigInt('0x' + signature.slice(66, 130));
  const v = parseInt(signature.slice(130, 132), 16);
  if (v !== 27 && v !== 28) throw new HttpError(400, `signature has v = ${v}; expected 27 or 28 (65-byte r, s, v encoding)`);
  if (r === 0n || s === 0n || r >= SECP256K1_N) throw new HttpError(400, 'signature has r or s out of range');
  if (s > HALF_N) {
    throw new HttpError(400, 'signature has a high s value (a malleable encoding the contracts refuse); sign again with a standard EIP-712 signer');
  }
}

/**
 * Verifies that `signature` over the typed data was made by `expectedSigner` (checksummed), or
 * throws a 400 that says who did sign it.
 */
export function checkTypedSignature(
  domain: TypedDataDomain,
  types: Types,
  message: Record<string, unknown>,
  signature: string,
  expectedSigner: string,
  what: string,
): void {
  checkSignatureEncoding(signature);
  let signer: string;
  try {
    signer = verifyTypedData(domain, types, message, signature);
  } catch (err) {
    throw new HttpError(400, `${what} signature is not valid: ${(err as Error & { shortMessage?: string }).shortMessage ?? (err as Error).message}`);
  }
  if (signer !== expectedSigner) {
    throw new HttpError(400, `${what} signature was made by ${signer}, not by ${expectedSigner} (wrong key, or different signed fields, chain or contract)`);
  }
}
