// The partner loader, built to /widget.js: a classic script a partner page includes with
//
//   <script src="https://DAO_ORIGIN/widget.js" data-dao-origin="https://DAO_ORIGIN"
//           data-size="compact|full" data-theme="light|dark" data-referral="partner-id" async></script>
//
// It puts an <iframe> of DAO_ORIGIN/widget/widget.html right after the script element and relays
// the frame's status messages as CustomEvent('dao-widget', { detail }) on the script element and
// on window (detail: WidgetEvent, protocol.ts). That is all it does: it offers NO API that starts
// mining. Mining starts only on a real click on "Start contributing" inside the frame, which runs on
// the DAO's origin, where the partner page can neither script nor read anything (the host page can
// ask, never force).
//
// Keep it tiny and free of app code: every partner page view fetches it. It imports types only and
// everything lives inside one function, so that, run as a classic script, it adds no globals to the
// partner's page (the widget test checks both).
import type { WidgetEvent, WidgetEventType, WidgetSize } from './protocol.js';

(function daoWidgetLoader(): void {
  /** Where the built frame page lives on the DAO origin (Vite keeps web/widget/widget.html's path). */
  const FRAME_PATH = '/widget/widget.html';
  const FRAME_SIZES: Record<WidgetSize, [width: number, height: number]> = { compact: [320, 140], full: [420, 260] };
  const TYPES: readonly WidgetEventType[] = ['ready', 'started', 'stopped', 'hashrate', 'shares', 'error'];

  /** `text` as an http(s) origin, or undefined when it is not exactly one. */
  function parseOrigin(text: string | undefined): string | undefined {
    if (!text) return undefined;
    try {
      const url = new URL(text);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
      return url.origin === text.replace(/\/$/, '') ? url.origin : undefined;
    } catch {
      return undefined;
    }
  }

  /** A frame message as a clean event: known type, finite non-negative numbers, nothing else. */
  function readMessage(data: unknown): WidgetEvent | undefined {
    if (typeof data !== 'object' || data === null) return undefined;
    const record = data as Record<string, unknown>;
    const type = record.type as WidgetEventType;
    if (record.mark !== 'dao-widget' || !TYPES.includes(type)) return undefined;
    const event: WidgetEvent = { type };
    for (const key of ['hashesPerSecond', 'accepted', 'rejected'] as const) {
      const value = record[key];
      if (typeof value === 'number' && Number.isFinite(value) && value >= 0) event[key] = value;
    }
    return event;
  }

  function mount(script: HTMLScriptElement): void {
    if (script.hasAttribute('data-dao-widget-mounted')) return;
    script.setAttribute('data-dao-widget-mounted', '');
    const daoOrigin = parseOrigin(script.dataset.daoOrigin) ?? (script.src ? new URL(script.src).origin : undefined);
    if (!daoOrigin || !parseOrigin(daoOrigin)) {
      console.warn('dao-widget: data-dao-origin must be an http(s) origin, e.g. https://dao.example');
      return;
    }
    const size: WidgetSize = script.dataset.size === 'full' ? 'full' : 'compact';
    const theme = script.dataset.theme === 'dark' ? 'dark' : 'light';
    const ref = (script.dataset.referral ?? '').replace(/[^\w.-]/g, '').slice(0, 64);
    const src = new URL(FRAME_PATH, daoOrigin);
    src.search = new URLSearchParams({ theme, size, ref, parent: location.origin }).toString();

    const iframe = document.createElement('iframe');
    // allow-same-origin keeps the frame on the DAO's origin (workers, IndexedDB with the member's
    // key); without allow-top-navigation, allow-popups or allow-forms it cannot leave its box.
    iframe.setAttribute('sandbox', 'allow-scripts allow-same-origin');
    iframe.setAttribute('allow', '');
    iframe.setAttribute('referrerpolicy', 'strict-origin');
    iframe.title = 'Computing Power DAO: contribute computing power';
    iframe.width = String(FRAME_SIZES[size][0]);
    iframe.height = String(FRAME_SIZES[size][1]);
    iframe.style.cssText = 'border:0;display:block;max-width:100%';
    iframe.src = src.href;

    // Only messages from this frame's window on the DAO origin are relayed, and only as clean copies.
    window.addEventListener('message', (event) => {
      if (event.origin !== daoOrigin || event.source !== iframe.contentWindow) return;
      const detail = readMessage(event.data);
      if (!detail) return;
      script.dispatchEvent(new CustomEvent('dao-widget', { detail: Object.freeze({ ...detail }) }));
      window.dispatchEvent(new CustomEvent('dao-widget', { detail: Object.freeze({ ...detail }) }));
    });
    if (script.parentNode) script.after(iframe);
    else document.body.append(iframe);
  }

  const current = document.currentScript;
  if (current instanceof HTMLScriptElement) mount(current);
  else document.querySelectorAll<HTMLScriptElement>('script[data-dao-origin]').forEach(mount);
})();
