// What the widget frame tells the partner page. Messages only ever flow frame -> host page; the
// frame takes no orders back. Types only: the loader (widget.ts) must not import any runtime code,
// because in the one multi-entry Vite build an import would either become a shared chunk (and
// /widget.js would start with `import`, which a classic <script> cannot run) or be hoisted to the
// top level of /widget.js, where its names would become globals of the partner's page.

/** The events the host page sees as CustomEvent('dao-widget', { detail }). */
export type WidgetEventType = 'ready' | 'started' | 'stopped' | 'hashrate' | 'shares' | 'error' | 'paused' | 'resumed';

/**
 * Why mining paused (paused, resumed): the frame was not fully visible at its minimum size, or the
 * device asked for rest (a low battery that is not charging, Save-Data).
 */
export type WidgetPauseReason = 'hidden' | 'off-screen' | 'too-small' | 'obscured' | 'battery' | 'save-data';

export interface WidgetEvent {
  type: WidgetEventType;
  /** Hashes per second over the last ten seconds (hashrate, stopped). */
  hashesPerSecond?: number;
  /** Shares the pool accepted / rejected in this run (shares, hashrate, stopped). */
  accepted?: number;
  rejected?: number;
  /** Why the frame paused (paused) or what had paused it (resumed). */
  reason?: WidgetPauseReason;
}

/** What the frame posts: the event plus `mark: 'dao-widget'`, so the loader can tell it from others. */
export type WidgetMessage = WidgetEvent & { mark: 'dao-widget' };

export type WidgetSize = 'compact' | 'full';
export type WidgetTheme = 'light' | 'dark';
