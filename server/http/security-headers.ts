// Which pages may be framed, and by whom. The app's pages hold a member key and sign votes and
// claims on a click: a page on another site that framed them could lay its own buttons over ours
// (clickjacking). So every response says "only this origin may frame me", except the widget frame,
// which partners embed on their own sites by design (its Start button needs a real click inside a
// sandboxed frame, and the frame holds no key that can sign anything but shares).
// Plain data, no I/O: the gateway's request handler and the Vite dev/preview servers both use it.

/** Sent on every HTTP response: no MIME sniffing, and no full URL leaked to another origin. */
export const BASE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'strict-origin-when-cross-origin',
};

/** Pages and files of the app: framed by the DAO's own origin only. */
export const SAME_ORIGIN_FRAMING: Readonly<Record<string, string>> = {
  'content-security-policy': "frame-ancestors 'self'",
  // For browsers without CSP frame-ancestors; modern ones ignore it when the CSP is present.
  'x-frame-options': 'SAMEORIGIN',
};

/** JSON, metrics and errors: nothing frames data. */
export const NO_FRAMING: Readonly<Record<string, string>> = {
  'content-security-policy': "frame-ancestors 'none'",
  'x-frame-options': 'DENY',
};

/** The framing headers, by name, to drop from a response that any site may frame. */
export const FRAMING_HEADER_NAMES: readonly string[] = ['content-security-policy', 'x-frame-options'];

/**
 * Paths (from the web root, with a leading slash) that any site may frame: the widget's frame
 * page. It gets no framing header at all rather than `frame-ancestors *`, because `*` does not
 * match an opaque origin, so a partner page that is itself in a sandboxed frame could not embed it.
 */
export const FRAMEABLE_PATHS: ReadonlySet<string> = new Set(['/widget/widget.html']);

/** The framing headers for a static file at `webPath` (e.g. "/index.html"); empty for the widget frame. */
export function framingHeadersFor(webPath: string): Readonly<Record<string, string>> {
  return FRAMEABLE_PATHS.has(webPath) ? {} : SAME_ORIGIN_FRAMING;
}
