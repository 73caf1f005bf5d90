// When mining pauses by itself (DESIGN.md, "Respect for the contributor's device"): a hidden tab
// (if the member chose so), a low battery that is not charging (where the browser tells), and
// Data Saver. The rules are a pure function; DeviceWatcher only follows what the browser reports.
// Each rule is a pause reason of its own, in the same set as a caller's pause(reason).

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

/** Which device rules apply (the member's choices; Save-Data always applies). */
export interface PauseRuleSettings {
  pauseWhenHidden: boolean;
  pauseOnBattery: boolean;
}

/** The device's pause reasons. */
export const DEVICE_REASONS = ['hidden', 'battery', 'save-data'] as const;
export type DeviceReason = (typeof DEVICE_REASONS)[number];

/** Each device rule that holds now, with its words for the page. */
export function devicePauses(conditions: DeviceConditions, settings: PauseRuleSettings): Map<DeviceReason, string> {
  const pauses = new Map<DeviceReason, string>();
  if (conditions.hidden && settings.pauseWhenHidden) pauses.set('hidden', 'the tab is hidden');
  const battery = conditions.battery;
  if (settings.pauseOnBattery && battery && !battery.charging && battery.level < LOW_BATTERY_LEVEL) {
    pauses.set('battery', `the battery is low (${Math.round(battery.level * 100)}%) and not charging`);
  }
  if (conditions.saveData) pauses.set('save-data', 'Data Saver is on');
  return pauses;
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

/** Follows visibility, the battery and Save-Data where the browser reports them, and calls onChange on a change. */
export class DeviceWatcher {
  private battery: BatteryManagerLike | undefined;
  private connection: NetworkInformationLike | undefined;
  private stopped = false;
  private readonly changed = (): void => this.onChange();

  constructor(private readonly onChange: () => void) {}

  async start(): Promise<void> {
    this.stopped = false;
    document.addEventListener('visibilitychange', this.changed);
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
    document.removeEventListener('visibilitychange', this.changed);
    this.connection?.removeEventListener?.('change', this.changed);
    for (const name of BATTERY_EVENTS) this.battery?.removeEventListener(name, this.changed);
  }
}
