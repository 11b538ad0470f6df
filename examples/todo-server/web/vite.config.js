import { defineConfig } from 'vite';

// The page is served by the todo server itself (same origin as the sync and upload endpoints), from the
// jar's /web/ resources; `mvn install` runs `npm ci` and `npm run build`, writing into target/classes/web.
export default defineConfig({
  // Only for `vite` (the dev server): the SDK's worker and wasm must not be pre-bundled.
  optimizeDeps: { exclude: ['@powersync/web', '@journeyapps/wa-sqlite'] },
  // The SDK starts module workers; code-splitting builds need ES workers.
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    outDir: process.env.TODO_WEB_OUT || 'dist',
    emptyOutDir: true
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    strictPort: true,
    // `npm exec vite` against a todo server on :8080.
    proxy: {
      '/api': 'http://127.0.0.1:8080',
      '/dev': 'http://127.0.0.1:8080',
      '/sync': 'http://127.0.0.1:8080',
      '/write-checkpoint2.json': 'http://127.0.0.1:8080'
    }
  }
});
