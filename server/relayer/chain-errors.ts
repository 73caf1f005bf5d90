// Telling a chain refusal (a revert: the request is bad, mark it failed) from a chain outage (the
// node did not answer: keep the request and try again), and writing refusals down readably.
import { isCallException, type ContractTransactionResponse, type Interface, type JsonRpcProvider, type TransactionReceipt } from 'ethers';
import { HttpError } from '../http/respond.js';

/** `Name(arg: value, ...)` for a decoded custom error, with the ABI's argument names when known. */
function formatRevert(revert: { name: string; args: ArrayLike<unknown> }, iface?: Interface): string {
  const inputs = iface?.getError(revert.name)?.inputs ?? [];
  const args = Array.from(revert.args, (value, i) => {
    const text = typeof value === 'bigint' ? value.toString() : String(value);
    const name = inputs[i]?.name;
    return name ? `${name}: ${text}` : text;
  });
  return `${revert.name}(${args.join(', ')})`;
}

/**
 * The reason a call was refused by the chain, e.g. `AlreadyVoted(proposalId: 1, voter: 0x…)`;
 * undefined when `err` is not a revert at all (an RPC failure, a timeout), i.e. says nothing about
 * the request.
 */
export function revertReason(err: unknown, iface?: Interface): string | undefined {
  if (!isCallException(err)) return undefined;
  // A call exception without revert data can also be a node that failed mid-call; only a decoded
  // error or reason string is a statement about the request.
  if (err.revert) return formatRevert(err.revert, iface);
  if (err.reason) return err.reason;
  if (err.data && err.data !== '0x') {
    // Gas estimation errors come from the provider, which knows no contract's custom errors.
    const parsed = iface?.parseError(err.data);
    return parsed ? formatRevert(parsed, iface) : `reverted with undecoded data ${err.data.slice(0, 74)}`;
  }
  return undefined;
}

export function shortError(err: unknown): string {
  const e = err as { shortMessage?: string; message?: string };
  return (e.shortMessage ?? e.message ?? String(err)).slice(0, 300);
}

/**
 * Runs a read the API needs before accepting a request. A revert goes back to the caller (it means
 * something about the request); anything else is a 503, since the client did nothing wrong.
 */
export async function chainRead<T>(what: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (isCallException(err) && (err.revert || err.reason)) throw err;
    throw new HttpError(503, `the chain node did not answer (${what}): ${shortError(err)}; try again shortly`);
  }
}

/**
 * The latest block's number and time, asked of the node directly: ethers answers getBlock('latest')
 * and getBlockNumber() from a short cache, and a vote just past its deadline must be judged by the
 * chain's time now, not a quarter second ago.
 */
export async function latestBlock(provider: JsonRpcProvider): Promise<{ number: number; timestamp: bigint }> {
  const block = (await provider.send('eth_getBlockByNumber', ['latest', false])) as { number?: string; timestamp?: string } | null;
  if (!block?.number || !block.timestamp) throw new Error('the node returned no latest block');
  return { number: Number(BigInt(block.number)), timestamp: BigInt(block.timestamp) };
}

/**
 * The key's next nonce, asked of the node directly. ethers' signer reads it through the provider's
 * short request cache, so a second send within a quarter second of the first would reuse a nonce.
 */
export async function pendingNonce(provider: JsonRpcProvider, address: string): Promise<number> {
  return Number(BigInt((await provider.send('eth_getTransactionCount', [address, 'pending'])) as string));
}

/** How long a relayer transaction waits for its receipt before leaving it to the next round. */
export const RECEIPT_TIMEOUT_MS = 120_000;

/** The transaction's receipt, reverted or not; throws when none came within RECEIPT_TIMEOUT_MS. */
export async function receiptOf(tx: ContractTransactionResponse): Promise<TransactionReceipt> {
  let receipt: TransactionReceipt | null;
  try {
    // tx.wait returns at once when the receipt is there (provider.waitForTransaction waits for
    // the next block poll), and throws for a reverted one, carrying its receipt.
    receipt = await tx.wait(1, RECEIPT_TIMEOUT_MS);
  } catch (err) {
    if (!isCallException(err) || !err.receipt) throw err;
    receipt = err.receipt;
  }
  if (!receipt) throw new Error(`no receipt for ${tx.hash}`);
  return receipt;
}
