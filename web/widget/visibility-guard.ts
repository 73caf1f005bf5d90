// Consent that a partner page cannot trick out of the contributor (clickjacking), and no work
// that the contributor cannot see.
//
// The frame counts as "shown" only while ALL of these hold:
// - the document is visible (not a background tab),
// - the frame is at least MIN_WIDTH_PX x MIN_HEIGHT_PX CSS px (200 x 80: the Start button and the
//   line saying what it does fit; a 1x1 frame shows nothing),
// - it lies fully inside the top-level viewport (IntersectionObserver v1, ratio >= 0.99),
// - where the browser has IntersectionObserver v2 (Chromium), it is VISIBLE: not covered by any
//   other element, not made transparent, not scaled, skewed or filtered (isVisible).
//
// Start is accepted only after the frame has been shown for VISIBLE_BEFORE_CLICK_MS (500 ms): a
// decoy cannot slide the frame under the pointer just before a click. Where there is no v2
// (Firefox), transparency and covers cannot be seen from inside the frame, so the first click only
// brings up a second button at ANOTHER place in the frame, which takes a second trusted click at
// least CONFIRM_DELAY_MS (300 ms) later: one click on a decoy never consents.
//
// While mining, the guard reports every change, so the frame pauses within a second when the
// frame is hidden, off-screen, too small or (v2) obscured, and resumes when it is shown again.
import type { WidgetPauseReason } from './protocol.js';

export const MIN_WIDTH_PX = 200;
export const MIN_HEIGHT_PX = 80;
export const VISIBLE_BEFORE_CLICK_MS = 500;
export const CONFIRM_DELAY_MS = 300;
/** How often the guard re-reads size and visibility besides the observer's callbacks. */
const TICK_MS = 200;
/** The smallest IntersectionObserver v2 delay Chromium accepts. */
const V2_DELAY_MS = 100;
/** "Fully" inside the viewport, allowing for sub-pixel rounding at fractional positions. */
const FULL_RATIO = 0.99;

/** Whether this browser can tell covered or transparent frames (IntersectionObserver v2). */
export function tracksVisibility(): boolean {
  return typeof IntersectionObserverEntry !== 'undefined' && 'isVisible' in IntersectionObserverEntry.prototype;
}

export class VisibilityGuard {
  readonly v2 = tracksVisibility();
  private ratio = 0;
  private occluded = true;
  private shownSinceMs: number | undefined;
  private lastReason: WidgetPauseReason | undefined | null = null;
  private readonly observer: IntersectionObserver;
  private readonly timer: ReturnType<typeof setInterval>;

  /** `onChange(reason)`: undefined when the frame became shown, else why it is not. */
  constructor(target: Element, private readonly onChange: (reason: WidgetPauseReason | undefined) => void = () => {}) {
    const options: IntersectionObserverInit & { trackVisibility?: boolean; delay?: number } = { threshold: [0, 0.25, 0.5, 0.75, FULL_RATIO, 1] };
    if (this.v2) Object.assign(options, { trackVisibility: true, delay: V2_DELAY_MS });
    this.observer = new IntersectionObserver((entries) => {
      const entry = entries.at(-1);
      if (!entry) return;
      this.ratio = entry.isIntersecting ? entry.intersectionRatio : 0;
      this.occluded = this.v2 ? !(entry as IntersectionObserverEntry & { isVisible?: boolean }).isVisible : false;
      this.update();
    }, options);
    this.observer.observe(target);
    this.timer = setInterval(() => this.update(), TICK_MS);
    document.addEventListener('visibilitychange', this.update);
    window.addEventListener('resize', this.update);
  }

  /** Why the frame is not shown now, or undefined when it is. */
  reason(): WidgetPauseReason | undefined {
    if (document.visibilityState !== 'visible') return 'hidden';
    if (window.innerWidth < MIN_WIDTH_PX || window.innerHeight < MIN_HEIGHT_PX) return 'too-small';
    if (this.ratio < FULL_RATIO) return 'off-screen';
    if (this.occluded) return 'obscured';
    return undefined;
  }

  /** How long the frame has been shown without a break (0 when it is not shown now). */
  shownForMs(nowMs = performance.now()): number {
    return this.shownSinceMs === undefined ? 0 : nowMs - this.shownSinceMs;
  }

  /** Whether a click now may count as consent (shown long enough). */
  mayConsent(nowMs = performance.now()): boolean {
    this.update();
    return this.reason() === undefined && this.shownForMs(nowMs) >= VISIBLE_BEFORE_CLICK_MS;
  }

  dispose(): void {
    this.observer.disconnect();
    clearInterval(this.timer);
    document.removeEventListener('visibilitychange', this.update);
    window.removeEventListener('resize', this.update);
  }

  private readonly update = (): void => {
    const reason = this.reason();
    if (reason === undefined) this.shownSinceMs ??= performance.now();
    else this.shownSinceMs = undefined;
    if (reason !== this.lastReason) {
      this.lastReason = reason;
      this.onChange(reason);
    }
  };
}

/** Words for a reason, for the frame's status line. */
export function describeReason(reason: WidgetPauseReason): string {
  switch (reason) {
    case 'hidden':
      return 'the page is in the background';
    case 'too-small':
      return `the widget is smaller than ${MIN_WIDTH_PX}×${MIN_HEIGHT_PX} px`;
    case 'off-screen':
      return 'the widget is not fully on screen';
    case 'obscured':
      return 'the widget is covered, transparent or distorted';
    case 'battery':
      return 'the battery is low';
    case 'save-data':
      return 'the browser asks to save data';
  }
}
