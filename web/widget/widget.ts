// The partner loader, built to /widget.js: a classic script a partner page includes with
//
//   <script src="https://DAO_ORIGIN/widget.js" data-dao-origin="https://DAO_ORIGIN"
//           data-size="compact|full" data-theme="light|dark" data-referral="partner-id"
//           data-max-cpu="10-100" async></script>
//
// data-dao-origin is required; the others are optional (compact, light, no referral, no ceiling).
// data-max-cpu is a ceiling the partner may set on the CPU share: the frame uses the lower of it and
// the contributor's own choice, so a partner can lower the load but never raise it. Any attribute
// out of range or unknown: one console.error that names each problem, and no frame at all (a
// half-configured widget would be worse than none).
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
import type { WidgetEvent, WidgetEventType, WidgetPauseReason, WidgetSize, WidgetTheme } from './protocol.js';

(function daoWidgetLoader(): void {
  /** Where the built frame page lives on the DAO origin (Vite keeps web/widget/widget.html's path). */
  const FRAME_PATH = '/widget/widget.html';
  const FRAME_SIZES: Record<WidgetSize, [width: number, height: number]> = { compact: [320, 140], full: [420, 260] };
  const THEMES: readonly WidgetTheme[] = ['light', 'dark'];
  const TYPES: readonly WidgetEventType[] = ['ready', 'started', 'stopped', 'hashrate', 'shares', 'error', 'paused', 'resumed'];
  const REASONS: readonly WidgetPauseReason[] = ['hidden', 'off-screen', 'too-small', 'obscured', 'battery', 'save-data'];

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

  /** A frame message as a clean event: known type, finite non-negative numbers, a known reason, nothing else. */
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
    if (REASONS.includes(record.reason as WidgetPauseReason)) event.reason = record.reason as WidgetPauseReason;
    return event;
  }

  function mount(script: HTMLScriptElement): void {
    if (script.hasAttribute('data-dao-widget-mounted')) return;
    script.setAttribute('data-dao-widget-mounted', '');
    const data = script.dataset;
    const problems: string[] = [];
    const daoOrigin = parseOrigin(data.daoOrigin);
    if (!daoOrigin) problems.push(`data-dao-origin must be the DAO's http(s) origin, e.g. https://dao.example (got ${JSON.stringify(data.daoOrigin ?? null)})`);
    const size = (data.size ?? 'compact') as WidgetSize;
    if (!(size in FRAME_SIZES)) problems.push(`data-size must be compact or full (got ${JSON.stringify(data.size)})`);
    const theme = (data.theme ?? 'light') as WidgetTheme;
    if (!THEMES.includes(theme)) problems.push(`data-theme must be light or dark (got ${JSON.stringify(data.theme)})`);
    const ref = data.referral ?? '';
    if (!/^[\w.-]{0,64}$/.test(ref)) problems.push(`data-referral must be up to 64 letters, digits, _ . or - (got ${JSON.stringify(ref)})`);
    const maxCpu = data.maxCpu ?? '100';
    if (!/^\d{1,3}$/.test(maxCpu) || +maxCpu < 10 || +maxCpu > 100) problems.push(`data-max-cpu must be a whole percentage from 10 to 100 (got ${JSON.stringify(data.maxCpu)})`);
    if (!daoOrigin || problems.length > 0) {
      console.error(`dao-widget: not shown: ${problems.join('; ')}`);
      return;
    }
    const src = new URL(FRAME_PATH, daoOrigin);
    src.search = new URLSearchParams({ theme, size, ref, cpu: String(+maxCpu), parent: location.origin }).toString();

    const iframe = document.createElement('iframe');
    // allow-same-origin keeps the frame on the DAO's origin (workers, IndexedDB). On a partner's
    // site its storage is partitioned or blocked, so the member's key lives first-party: the frame
    // asks for storage access (allow-storage-access-by-user-activation) or opens a small window on
    // the DAO's origin (allow-popups, and allow-popups-to-escape-sandbox so that window is a normal
    // page). Never allow-top-navigation or allow-forms: it cannot take the partner's page anywhere.
    iframe.setAttribute('sandbox', 'allow-scripts allow-same-origin allow-popups allow-popups-to-escape-sandbox allow-storage-access-by-user-activation');
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
