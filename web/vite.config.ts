/**
 * The portal's production build: `vite build web` writes `dist/web`, which `vaplane serve` serves at
 * `/`. Assets carry content hashes (served as immutable); each text asset is also written gzip- and
 * brotli-compressed so the server can send the smaller file without compressing per request.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const OUT_DIR = '../dist/web';

function precompress(): Plugin {
  let outDir = '';
  return {
    name: 'vaplane-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    closeBundle() {
      const assets = join(outDir, 'assets');
      for (const file of readdirSync(assets)) {
        if (!/\.(js|css|svg|json)$/.test(file)) continue;
        const content = readFileSync(join(assets, file));
        writeFileSync(join(assets, `${file}.gz`), gzipSync(content, { level: 9 }));
        writeFileSync(
          join(assets, `${file}.br`),
          brotliCompressSync(content, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
        );
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), precompress()],
  base: '/',
  build: {
    outDir: OUT_DIR,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      output: {
        // Fluent UI and React change far less often than the portal's own code: a separate chunk
        // stays cached across portal releases.
        manualChunks(id) {
          if (id.includes('node_modules')) return 'vendor';
          return undefined;
        },
      },
    },
  },
});
