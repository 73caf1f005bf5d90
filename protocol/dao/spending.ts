// Spending proposals: a payment from the Treasury that members vote on. A spending signs with the
// same ProposalRequest type as every other proposal: its `parameter` packs the recipient and the
// category (WorkGovernor.spendingParameter) and its `value` is the amount.
import { checksumAddress } from './address.js';

/** Treasury.Category, by its uint8: what a payment is for. */
export const SPENDING_CATEGORIES = ['hardware', 'hosting', 'partner', 'other'] as const;
export type SpendingCategory = (typeof SPENDING_CATEGORIES)[number];

export interface SpendingTerms {
  /** EIP-55 address of who would be paid. */
  recipient: string;
  category: SpendingCategory;
}

const ADDRESS_BITS = 160n;

/** WorkGovernor.spendingParameter(recipient, category): the category byte above the 20-byte recipient. */
export function spendingParameter(recipient: string, category: SpendingCategory): string {
  const index = SPENDING_CATEGORIES.indexOf(category);
  if (index < 0) throw new RangeError(`unknown spending category ${JSON.stringify(category)}`);
  const packed = (BigInt(index) << ADDRESS_BITS) | BigInt(checksumAddress(recipient));
  return '0x' + packed.toString(16).padStart(64, '0');
}

/**
 * The recipient and category packed in a spending's parameter; null for a parameter the governor
 * refuses (InvalidSpendingParameter: bits above the category byte, or an unknown category).
 */
export function decodeSpendingParameter(parameter: string): SpendingTerms | null {
  if (!/^0x[0-9a-fA-F]{64}$/.test(parameter)) return null;
  const packed = BigInt(parameter);
  const category = SPENDING_CATEGORIES[Number(packed >> ADDRESS_BITS)];
  if (packed >> ADDRESS_BITS >= BigInt(SPENDING_CATEGORIES.length) || category === undefined) return null;
  const recipient = checksumAddress((packed & ((1n << ADDRESS_BITS) - 1n)).toString(16).padStart(40, '0'));
  return { recipient, category };
}
