// Display helpers for on-chain figures: token amounts (bigint base units) and durations.
import { formatUnits } from 'ethers';

const SHOWN_FRACTION_DIGITS = 4;

/**
 * `amount` base units as a decimal with the token's symbol, at most 4 fraction digits. Digits
 * beyond are cut, not rounded, so the page never shows more than is there.
 */
export function formatToken(amount: bigint, decimals: number, symbol: string): string {
  const [whole = '0', fraction = ''] = formatUnits(amount, decimals).split('.');
  const shown = fraction.slice(0, SHOWN_FRACTION_DIGITS).replace(/0+$/, '');
  const text = shown ? `${whole}.${shown}` : whole;
  const tiny = amount > 0n && /^0(\.0*)?$/.test(text);
  return `${tiny ? `< 0.${'0'.repeat(SHOWN_FRACTION_DIGITS - 1)}1` : text}${symbol ? ` ${symbol}` : ''}`;
}

/** A span of seconds as "2 d 3 h", "3 h 5 min", "4 min 10 s" or "12 s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const parts: [number, string][] = [
    [Math.floor(s / 86_400), 'd'],
    [Math.floor((s % 86_400) / 3600), 'h'],
    [Math.floor((s % 3600) / 60), 'min'],
    [s % 60, 's'],
  ];
  const first = parts.findIndex(([n]) => n > 0);
  if (first < 0) return '0 s';
  return parts
    .slice(first, first + 2)
    .filter(([n]) => n > 0)
    .map(([n, unit]) => `${n} ${unit}`)
    .join(' ');
}
