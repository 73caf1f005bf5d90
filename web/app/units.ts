// The one unit system of the contributor's pages: rates in H/s with SI prefixes, work in hashes
// with the same prefixes, counts with their plural, quorum as a share or a multiple. Every figure
// on the page goes through here, so the same quantity never reads two ways.
export { formatRate } from '../miner/format-rate.js';

const PREFIXES = ['', 'k', 'M', 'G', 'T', 'P', 'E'];

/** Work in expected hashes: "950 hashes", "1.20 G hashes" (a space after the prefix, so it reads as a number of hashes). */
export function formatWork(work: number | string | bigint): string {
  const n = Number(work);
  if (!Number.isFinite(n)) return String(work);
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < PREFIXES.length - 1) {
    value /= 1000;
    unit++;
  }
  if (unit === 0) return countOf(Math.round(value), 'hash', 'hashes');
  return `${value.toFixed(2)} ${PREFIXES[unit]} hashes`;
}

/** "1 share", "2 shares", "0 shares". */
export function countOf(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

/** How far `work` is toward `quorum`: "43% of quorum" below it, "quorum reached: 3.2x" at or above it. */
export function quorumText(work: bigint, quorum: bigint): string {
  if (quorum <= 0n) return 'no quorum needed';
  if (work >= quorum) {
    const tenths = (work * 10n) / quorum;
    return `quorum reached: ${tenths / 10n}.${tenths % 10n}x`;
  }
  return `${(work * 100n) / quorum}% of quorum`;
}
