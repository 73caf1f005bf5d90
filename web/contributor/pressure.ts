// Backing off under device pressure, where the browser offers the Compute Pressure API
// (PressureObserver, source 'cpu': Chromium on desktop). 'serious' halves the duty cycle,
// 'critical' pauses; 'nominal' and 'fair' run at the member's setting. Where the API is missing
// (Firefox, Safari) nothing happens: the duty cycle and the other pause rules still hold.

/** The Compute Pressure states, lowest first (https://w3c.github.io/compute-pressure/). */
export type PressureState = 'nominal' | 'fair' | 'serious' | 'critical';

/** What the session does at a pressure state: its duty-cycle factor and whether it pauses. */
export function pressureResponse(state: PressureState | undefined): { dutyFactor: number; pause: boolean } {
  if (state === 'critical') return { dutyFactor: 0, pause: true };
  if (state === 'serious') return { dutyFactor: 0.5, pause: false };
  return { dutyFactor: 1, pause: false };
}

/** Words for the page. */
export function pressureDetail(state: PressureState): string {
  return state === 'critical' ? 'the device is under critical load (the browser says so)' : `the device is under ${state} load: CPU use halved`;
}

interface PressureRecordLike {
  source: string;
  state: PressureState;
}
interface PressureObserverLike {
  observe(source: 'cpu', options?: { sampleInterval?: number }): Promise<void>;
  disconnect(): void;
}
type PressureObserverCtor = new (callback: (records: PressureRecordLike[]) => void) => PressureObserverLike;

/**
 * Whether this document may observe pressure: a cross-origin frame (the widget on a partner's
 * site) is refused unless its iframe allows compute-pressure, and Chromium logs an error for the
 * attempt, so it is not made. Where the browser cannot tell, it is tried (a refusal is caught).
 */
function policyAllows(): boolean {
  const policy = (globalThis.document as { featurePolicy?: { allowsFeature(name: string): boolean } } | undefined)?.featurePolicy;
  return policy?.allowsFeature('compute-pressure') ?? true;
}

/** Follows the CPU pressure state while started; onChange gets each new state. Does nothing without the API. */
export class PressureWatcher {
  private observer: PressureObserverLike | undefined;
  private current: PressureState | undefined;

  constructor(private readonly onChange: (state: PressureState | undefined) => void) {}

  /** Whether this browser offers the API at all. */
  static get supported(): boolean {
    return typeof (globalThis as { PressureObserver?: unknown }).PressureObserver === 'function';
  }

  get state(): PressureState | undefined {
    return this.current;
  }

  async start(): Promise<void> {
    const Ctor = (globalThis as { PressureObserver?: PressureObserverCtor }).PressureObserver;
    if (typeof Ctor !== 'function' || this.observer || !policyAllows()) return;
    const observer = (this.observer = new Ctor((records) => {
      const last = records.filter((r) => r.source === 'cpu').at(-1);
      if (!last || last.state === this.current || this.observer !== observer) return;
      this.current = last.state;
      this.onChange(last.state);
    }));
    try {
      await observer.observe('cpu', { sampleInterval: 1000 });
    } catch {
      // Refused (a permissions policy, or no CPU source on this device): no pressure rule.
      this.stop();
    }
  }

  stop(): void {
    this.observer?.disconnect();
    this.observer = undefined;
    if (this.current !== undefined) {
      this.current = undefined;
      this.onChange(undefined);
    }
  }
}
