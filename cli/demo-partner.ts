// The demo partner page for `npm start`, served from a genuinely different SITE than the DAO: a
// second listener on another loopback address (127.0.0.2; 127.0.0.3 when the DAO itself is on
// 127.0.0.2). Different hosts are different sites, so the widget there is third-party exactly as
// on a real partner's site (blocked or partitioned storage, the connect window), which
// localhost-vs-127.0.0.1 on one listener would also give but a port of the same host would not.
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';

/** The DAO origin written in web/widget/demo-partner.html; replaced with the real one when served. */
export const DEMO_DAO_ORIGIN = 'http://127.0.0.1:8080';

export interface DemoPartner {
  /** The demo page's URL, e.g. http://127.0.0.2:8080/ */
  url: string;
  close(): Promise<void>;
}

/** The built demo page's text, or a page that says to build the web app first. */
function demoPage(webRoot: string | undefined): string {
  const built = webRoot ? join(webRoot, 'widget', 'demo-partner.html') : undefined;
  if (built && existsSync(built)) return readFileSync(built, 'utf8');
  return '<!doctype html><meta charset="utf-8"><title>Demo partner</title><p>The web app is not built: run <code>npm run build</code>, then start again.</p>';
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * Serves the demo page at / on another loopback host, on the DAO's port where that is free
 * (http://127.0.0.2:8080 beside http://127.0.0.1:8080) and on any free port otherwise.
 */
export async function startDemoPartner(daoOrigin: string, webRoot: string | undefined): Promise<DemoPartner> {
  const dao = new URL(daoOrigin);
  const host = dao.hostname === '127.0.0.2' ? '127.0.0.3' : '127.0.0.2';
  const body = demoPage(webRoot).replaceAll(DEMO_DAO_ORIGIN, dao.origin);
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path !== '/' && path !== '/demo-partner.html') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: the demo partner page is at /\n');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' }).end(body);
  });
  const preferred = Number(dao.port || 80);
  try {
    await listen(server, host, preferred);
  } catch {
    await listen(server, host, 0);
  }
  const address = server.address();
  const port = address && typeof address !== 'string' ? address.port : preferred;
  return {
    url: `http://${host}:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
