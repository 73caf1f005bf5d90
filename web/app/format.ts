export { formatRate } from '../miner/format-rate.js';

/** Work in expected hashes, with an SI prefix. */
export function formatWork(work: number | string): string {
  const n = Number(work);
  if (!Number.isFinite(n)) return String(work);
  const units = ['', 'k', 'M', 'G', 'T', 'P', 'E'];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? Math.round(value) : value.toFixed(2)} ${units[unit]}hashes`;
}
