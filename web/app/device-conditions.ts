// When mining pauses by itself (DESIGN.md, "Respect for the contributor's device"): a hidden tab
// (if the member chose so), a low battery that is not charging (where the browser tells), and
// Data Saver. The rule is a pure function; DeviceWatcher only follows what the browser reports.
import type { MinerSettings } from '../store/schema.js';

/** Below this battery level (0..1), and not charging, mining pauses. */
export const LOW_BATTERY_LEVEL = 0.2;

export interface BatteryReading {
  level: number;
  charging: boolean;
}

export interface DeviceConditions {
  hidden: boolean;
  /** undefined where the browser does not report the battery (Firefox, Safari). */
  battery?: BatteryReading;
  /** The Save-Data preference (navigator.connection.saveData, Chromium only). */
  saveData: boolean;
}

/** Why mining should pause now, in words for the page; undefined when it may run. */
export function pauseReason(conditions: DeviceConditions, settings: Pick<MinerSettings, 'pauseWhenHidden' | 'pauseOnBattery'>): string | undefined {
  if (conditions.hidden && settings.pauseWhenHidden) return 'the tab is hidden';
  const battery = conditions.battery;
  if (settings.pauseOnBattery && battery && !battery.charging && battery.level < LOW_BATTERY_LEVEL) {
    return `the battery is low (${Math.round(battery.level * 100)}%) and not charging`;
  }
  if (conditions.saveData) return 'Data Saver is on';
  return undefined;
}

/** The parts of BatteryManager and NetworkInformation used here (not in TypeScript's DOM types). */
interface BatteryManagerLike extends EventTarget {
  readonly level: number;
  readonly charging: boolean;
}
interface NetworkInformationLike extends EventTarget {
  readonly saveData?: boolean;
}
type NavigatorWithExtras = Navigator & {
  getBattery?: () => Promise<BatteryManagerLike>;
  connection?: NetworkInformationLike;
};

const BATTERY_EVENTS = ['levelchange', 'chargingchange'] as const;

/** Follows the battery and Save-Data where the browser reports them, and calls onChange on a change. */
export class DeviceWatcher {
  private battery: BatteryManagerLike | undefined;
  private connection: NetworkInformationLike | undefined;
  private stopped = false;
  private readonly changed = (): void => this.onChange();

  constructor(private readonly onChange: () => void) {}

  async start(): Promise<void> {
    const nav = navigator as NavigatorWithExtras;
    this.connection = nav.connection;
    this.connection?.addEventListener?.('change', this.changed);
    try {
      const battery = await nav.getBattery?.();
      if (this.stopped || !battery) return;
      this.battery = battery;
      for (const name of BATTERY_EVENTS) battery.addEventListener(name, this.changed);
    } catch {
      // No battery reading (refused, or not a secure context): no battery rule.
    }
  }

  conditions(): DeviceConditions {
    const b = this.battery;
    return {
      hidden: document.hidden,
      ...(b && Number.isFinite(b.level) ? { battery: { level: b.level, charging: b.charging } } : {}),
      saveData: this.connection?.saveData === true,
    };
  }

  stop(): void {
    this.stopped = true;
    this.connection?.removeEventListener?.('change', this.changed);
    for (const name of BATTERY_EVENTS) this.battery?.removeEventListener(name, this.changed);
  }
}

/**
 * A phone or tablet: the browser says so (User-Agent Client Hints), or it has a coarse pointer
 * and a small screen. Such devices need their own opt-in before mining (heat, battery, data).
 */
export function isMobileDevice(): boolean {
  const uaData = (navigator as { userAgentData?: { mobile?: boolean } }).userAgentData;
  if (uaData?.mobile === true) return true;
  const coarse = typeof matchMedia === 'function' && matchMedia('(pointer: coarse)').matches;
  return coarse && Math.min(screen.width, screen.height) < 600;
}
