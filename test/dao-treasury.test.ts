// The treasury's pure parts: the spending parameter packing (the contract's own is checked against
// it in contracts.test.ts) and TreasuryReader over scripted logs (the real chain is in
// relayer-treasury.test.ts and chain.browser.test.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TreasuryReader, decodeSpendingParameter, spendingParameter, type TreasuryLog, type TreasuryReads } from '../protocol/dao/index.js';

const RECIPIENT = '0x52908400098527886E0F7030069857D2E4169EE7';

describe('the spending parameter', () => {
  test('packs the category byte above the recipient, and decodes back', () => {
    assert.equal(spendingParameter(RECIPIENT, 'hardware'), '0x' + '0'.repeat(24) + RECIPIENT.slice(2).toLowerCase());
    assert.equal(spendingParameter(RECIPIENT, 'other'), '0x' + '0'.repeat(22) + '03' + RECIPIENT.slice(2).toLowerCase());
    for (const category of ['hardware', 'hosting', 'partner', 'other'] as const) {
      assert.deepEqual(decodeSpendingParameter(spendingParameter(RECIPIENT, category)), { recipient: RECIPIENT, category });
    }
  });

  test('what the governor refuses decodes to null', () => {
    const body = RECIPIENT.slice(2).toLowerCase();
    assert.equal(decodeSpendingParameter('0x' + '0'.repeat(22) + '04' + body), null, 'an unknown category');
    assert.equal(decodeSpendingParameter('0x' + '01' + '0'.repeat(22) + body), null, 'bits above the category byte');
    assert.equal(decodeSpendingParameter('0x1234'), null, 'not 32 bytes');
    assert.throws(() => spendingParameter(RECIPIENT, 'snacks' as never), /unknown spending category "snacks"/);
  });
});

/** A scripted chain: logs at given blocks; records the ranges asked for. */
function scripted(head: () => number, roots: [number, bigint, bigint][], paid: [number, bigint, bigint][]) {
  const ranges: [number, number][] = [];
  const log = (blockNumber: number, values: Record<string, unknown>): TreasuryLog => ({
    blockNumber,
    transactionHash: `0x${blockNumber.toString(16).padStart(64, '0')}`,
    index: 0,
    args: { getValue: (name) => values[name] },
  });
  const reads: TreasuryReads = {
    address: '0x00000000000000000000000000000000000000aa',
    balance: async () => 7n,
    headBlock: async () => head(),
    async rootPublishedLogs(from, to) {
      ranges.push([from, to]);
      return roots.filter(([b]) => b >= from && b <= to).map(([b, epoch, reinvested]) => log(b, { epoch, reinvested }));
    },
    async paidLogs(from, to) {
      return paid.filter(([b]) => b >= from && b <= to).map(([b, proposalId, amount]) => log(b, { proposalId, recipient: RECIPIENT, amount, category: 1n }));
    },
  };
  return { reads, ranges };
}

describe('the treasury reader', () => {
  test('lists inflows (epochs that reinvested) and payments in chain order, chunk by chunk, each once', async () => {
    let head = 25;
    const { reads, ranges } = scripted(() => head, [[12, 1n, 10n], [20, 2n, 0n], [30, 3n, 5n]], [[22, 1n, 4n]]);
    const reader = new TreasuryReader(reads, 10, 10);
    // Two reads at once: the second waits for the first, so no block is listed twice.
    const [first, second] = await Promise.all([reader.read(), reader.read()]);
    assert.deepEqual(first, second);
    assert.deepEqual(
      first.history.map((e) => (e.kind === 'inflow' ? ['inflow', e.epoch, e.amount, e.blockNumber] : ['payment', e.proposalId, e.amount, e.category, e.recipient])),
      [['inflow', 1n, 10n, 12], ['payment', 1n, 4n, 'hosting', RECIPIENT]],
      'epoch 2 reinvested nothing: no inflow',
    );
    assert.equal(first.balance, 7n);
    head = 31;
    const later = await reader.read();
    assert.deepEqual(later.history.map((e) => e.blockNumber), [12, 22, 30]);
    assert.deepEqual(ranges, [[10, 19], [20, 25], [26, 31]], 'only new blocks are read, in chunks of at most 10');
  });
});
