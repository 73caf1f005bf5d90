/** A hash rate as people read it: "6.41 MH/s", "362.6 kH/s". Shared by the CLI, the app and the widget. */
export function formatRate(hashesPerSecond: number): string {
  if (hashesPerSecond >= 1e9) return `${(hashesPerSecond / 1e9).toFixed(2)} GH/s`;
  if (hashesPerSecond >= 1e6) return `${(hashesPerSecond / 1e6).toFixed(2)} MH/s`;
  if (hashesPerSecond >= 1e3) return `${(hashesPerSecond / 1e3).toFixed(1)} kH/s`;
  return `${Math.round(hashesPerSecond)} H/s`;
}
