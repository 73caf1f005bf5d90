import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin, type PreviewServer, type ViteDevServer } from 'vite';
import { BASE_SECURITY_HEADERS, framingHeadersFor } from './server/http/security-headers.js';

/**
 * The gateway's security headers on the dev and preview servers too, so that a page that works
 * here is not framed (or refused) differently once the gateway serves it.
 */
function securityHeaders(): Plugin {
  const apply = (server: ViteDevServer | PreviewServer): void => {
    server.middlewares.use((req, res, next) => {
      const path = new URL(req.url ?? '/', 'http://vite').pathname;
      for (const [name, value] of Object.entries({ ...BASE_SECURITY_HEADERS, ...framingHeadersFor(path) })) res.setHeader(name, value);
      next();
    });
  };
  return { name: 'dao-security-headers', configureServer: apply, configurePreviewServer: apply };
}

// The web app lives in web/; it imports the pure protocol/ code, the WASM builds from
// build/wasm/ and the WGSL kernels from shaders/, all outside web/, which Vite allows because they
// are inside the package.
export default defineConfig({
  root: fileURLToPath(new URL('./web', import.meta.url)),
  publicDir: '../public',
  build: {
    outDir: '../build/web',
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: {
      // The app, the engine benchmark page, and the partner widget: its loader, the page it
      // frames, a demo partner page and the connect window it opens from other sites.
      input: {
        main: fileURLToPath(new URL('./web/index.html', import.meta.url)),
        bench: fileURLToPath(new URL('./web/bench.html', import.meta.url)),
        // The public pool page: its charts (uPlot) load lazily, apart from the app.
        pool: fileURLToPath(new URL('./web/pool.html', import.meta.url)),
        widget: fileURLToPath(new URL('./web/widget/widget.ts', import.meta.url)),
        'widget-frame': fileURLToPath(new URL('./web/widget/widget.html', import.meta.url)),
        'widget-demo': fileURLToPath(new URL('./web/widget/demo-partner.html', import.meta.url)),
        // The first-party window the widget opens on a partner's site to reach the member's key.
        connect: fileURLToPath(new URL('./web/connect/connect.html', import.meta.url)),
      },
      // Partners hard-code /widget.js in their pages, so the loader keeps an unhashed name.
      output: { entryFileNames: (chunk) => (chunk.name === 'widget' ? 'widget.js' : 'assets/[name]-[hash].js') },
    },
  },
  plugins: [securityHeaders()],
  worker: { format: 'es' },
  preview: { host: '127.0.0.1', port: 5173, strictPort: false },
  server: { host: '127.0.0.1' },
});
