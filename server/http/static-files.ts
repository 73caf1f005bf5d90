import { createReadStream, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, relative, resolve, sep } from 'node:path';
import { FRAMING_HEADER_NAMES, framingHeadersFor } from './security-headers.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * Serves the built web app. Paths are resolved inside `root` only (no ../ escapes); Vite's
 * fingerprinted /assets/ files are cached for a year, everything else revalidated. Every file may be
 * framed by this origin only, except the widget frame page, which partners frame (security-headers.ts).
 */
export function serveStatic(root: string, req: IncomingMessage, res: ServerResponse, pathname: string): boolean {
  const base = resolve(root);
  let file = resolve(join(base, normalize(decodeURIComponent(pathname))));
  if (file !== base && !file.startsWith(base + sep)) return false;
  try {
    if (statSync(file).isDirectory()) file = join(file, 'index.html');
    const stat = statSync(file);
    // Judged by the file served, not the URL: /widget/./widget.html is the same page.
    const framing = framingHeadersFor(`/${relative(base, file).split(sep).join('/')}`);
    // The request handler sets "frame nothing" on every response first; a page replaces it.
    for (const name of FRAMING_HEADER_NAMES) res.removeHeader(name);
    res.writeHead(200, {
      ...framing,
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': stat.size,
      'cache-control': pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
    return true;
  } catch {
    return false;
  }
}
