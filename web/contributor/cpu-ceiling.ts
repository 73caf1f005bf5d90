// The CPU-use duty cycle: the user's own setting is the ceiling; a caller (a partner page, the
// widget's own rule) may ask for less, never for more.
export const MIN_CPU_PERCENT = 10;
export const MAX_CPU_PERCENT = 100;

/** `percent` as a duty cycle, or a precise error for anything that is not one. */
export function checkCpuPercent(name: string, percent: unknown): number {
  if (typeof percent !== 'number' || !Number.isFinite(percent) || percent < MIN_CPU_PERCENT || percent > MAX_CPU_PERCENT) {
    throw new RangeError(`${name} must be a number in ${MIN_CPU_PERCENT}..${MAX_CPU_PERCENT}, got ${JSON.stringify(percent) ?? String(percent)}`);
  }
  return percent;
}

export class CpuCeiling {
  private limitPercent: number | undefined;
  private pressureFactor = 1;

  constructor(private ceilingPercent: number) {
    checkCpuPercent('cpuCeiling', ceilingPercent);
  }

  /** The user's setting (the slider): the most any caller can get. */
  setCeiling(percent: number): void {
    this.ceilingPercent = checkCpuPercent('cpuCeiling', percent);
  }

  /** A caller's lower duty cycle; undefined lifts it. A limit above the ceiling changes nothing. */
  limit(percent: number | undefined): void {
    this.limitPercent = percent === undefined ? undefined : checkCpuPercent('cpu limit', percent);
  }

  get ceiling(): number {
    return this.ceilingPercent;
  }

  /** The device's own back-off (Compute Pressure 'serious': 0.5), on top of the ceiling and the limit; 1 lifts it. */
  setPressureFactor(factor: number): void {
    if (!(factor > 0 && factor <= 1)) throw new RangeError(`the pressure factor must be in (0, 1], got ${factor}`);
    this.pressureFactor = factor;
  }

  /** The duty cycle the engines run at now (never below the minimum the workers can keep). */
  get percent(): number {
    const chosen = Math.min(this.ceilingPercent, this.limitPercent ?? MAX_CPU_PERCENT);
    return Math.max(MIN_CPU_PERCENT, Math.round(chosen * this.pressureFactor));
  }
}
