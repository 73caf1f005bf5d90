import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

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
  },
  worker: { format: 'es' },
  preview: { host: '127.0.0.1', port: 5173, strictPort: false },
  server: { host: '127.0.0.1' },
});
