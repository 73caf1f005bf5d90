// The frame's reading of its query string (?theme=&size=&ref=&cpu=&parent=). Kept apart from
// protocol.ts, whose values only the loader may import (see there).
import type { WidgetSize, WidgetTheme } from './protocol.js';

export interface FrameParams {
  theme: WidgetTheme;
  size: WidgetSize;
  /** The partner id, cleaned; '' for none. */
  referral: string;
  /** The partner's CPU ceiling, 1..100 (100: none); the frame uses min(this, the contributor's choice). */
  maxCpuPercent: number;
  /**
   * The host page's origin, the only targetOrigin the frame ever posts to; undefined (post nothing)
   * when the parameter is not exactly an http(s) origin, or when the browser reports a different
   * embedding origin (location.ancestorOrigins, Chromium and Safari).
   */
  parentOrigin: string | undefined;
}

/** `text` as an http(s) origin ("https://example.org"), or undefined when it is not exactly one. */
export function parseOrigin(text: string | null | undefined): string | undefined {
  if (!text) return undefined;
  try {
    const url = new URL(text);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
    return url.origin === text.replace(/\/$/, '') ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

export function readFrameParams(search: string, ancestorOrigins?: ArrayLike<string>): FrameParams {
  const query = new URLSearchParams(search);
  let parentOrigin = parseOrigin(query.get('parent'));
  const actualParent = ancestorOrigins && ancestorOrigins.length > 0 ? ancestorOrigins[0] : undefined;
  if (parentOrigin && actualParent !== undefined && actualParent !== parentOrigin) parentOrigin = undefined;
  return {
    theme: query.get('theme') === 'dark' ? 'dark' : 'light',
    size: query.get('size') === 'full' ? 'full' : 'compact',
    referral: (query.get('ref') ?? '').replace(/[^\w.-]/g, '').slice(0, 64),
    maxCpuPercent: readCpuCeiling(query.get('cpu')),
    parentOrigin,
  };
}

/** The cpu parameter as a whole percentage 10..100 (the duty cycle's range); anything else is no ceiling (100). */
function readCpuCeiling(text: string | null): number {
  if (text === null || !/^\d{1,3}$/.test(text)) return 100;
  const value = Number(text);
  return value >= 10 && value <= 100 ? value : 100;
}
