import type { ContractTransactionResponse, TransactionResponse } from 'ethers';

/**
 * Sends one key's transactions one at a time. ethers picks each nonce from the node's pending
 * count; two sends in flight from one key could take the same nonce, and a send that fails after
 * a nonce was reserved would leave a gap that stalls every later one. Waiting for each send to be
 * accepted by the node (not mined) before the next avoids both.
 */
export class TxSender {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly address: string) {}

  send<T extends TransactionResponse | ContractTransactionResponse>(submit: () => Promise<T>): Promise<T> {
    const result = this.tail.then(submit, submit);
    this.tail = result.catch(() => {});
    return result;
  }
}
