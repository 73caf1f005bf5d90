/** Hashes per second as the page shows them. */
export function formatRate(hashesPerSecond: number): string {
  if (hashesPerSecond >= 1e9) return `${(hashesPerSecond / 1e9).toFixed(2)} GH/s`;
  if (hashesPerSecond >= 1e6) return `${(hashesPerSecond / 1e6).toFixed(2)} MH/s`;
  if (hashesPerSecond >= 1e3) return `${(hashesPerSecond / 1e3).toFixed(1)} kH/s`;
  return `${Math.round(hashesPerSecond)} H/s`;
}

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
