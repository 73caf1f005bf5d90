// Transfer sizes of the built web app (build/web), gzip at zlib's default level 6.
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface SizeFile {
  file: string;
  bytes: number;
  gzipBytes: number;
}

export interface InitialJs {
  files: SizeFile[];
  gzipBytes: number;
  /** Stylesheets index.html links (not counted in gzipBytes). */
  cssGzipBytes: number;
  /** JS chunks a static import reaches that index.html does not list as modulepreload. */
  unlisted: string[];
}

export function sizeOf(webRoot: string, file: string): SizeFile {
  const bytes = readFileSync(join(webRoot, file));
  return { file, bytes: bytes.length, gzipBytes: gzipSync(bytes).length };
}

/** `/assets/x.js` or `assets/x.js` -> `assets/x.js`. */
const relative = (href: string) => href.replace(/^\.?\//, '');

/**
 * The JS the app page loads before anyone clicks: index.html's module scripts and modulepreload
 * links, plus (to check Vite's list) every chunk they import statically, transitively. Dynamic
 * import(), workers (new Worker(new URL(...))) and .wasm are not followed.
 */
export function initialJs(webRoot: string, page = 'index.html'): InitialJs {
  const html = readFileSync(join(webRoot, page), 'utf8');
  const listed = new Set<string>();
  for (const tag of html.match(/<script\b[^>]*>/g) ?? []) {
    const src = /\bsrc="([^"]+)"/.exec(tag)?.[1];
    if (/\btype="module"/.test(tag) && src) listed.add(relative(src));
  }
  const css: string[] = [];
  for (const tag of html.match(/<link\b[^>]*>/g) ?? []) {
    const href = /\bhref="([^"]+)"/.exec(tag)?.[1];
    if (!href) continue;
    if (/\brel="modulepreload"/.test(tag)) listed.add(relative(href));
    else if (/\brel="stylesheet"/.test(tag)) css.push(relative(href));
  }
  const all = new Set(listed);
  const queue = [...listed];
  while (queue.length > 0) {
    const file = queue.shift()!;
    const code = readFileSync(join(webRoot, file), 'utf8');
    // Minified static imports: `import{a as b}from"./x.js"`, `import"./x.js"`, `export*from"./x.js"`.
    for (const m of code.matchAll(/(?:\bfrom|\bimport)\s*["']([^"']+\.js)["']/g)) {
      const target = posix.normalize(posix.join(posix.dirname(file), m[1]!));
      if (!all.has(target)) {
        all.add(target);
        queue.push(target);
      }
    }
  }
  const files = [...all].map((f) => sizeOf(webRoot, f));
  return {
    files,
    gzipBytes: files.reduce((n, f) => n + f.gzipBytes, 0),
    cssGzipBytes: css.reduce((n, f) => n + sizeOf(webRoot, f).gzipBytes, 0),
    unlisted: [...all].filter((f) => !listed.has(f)),
  };
}
