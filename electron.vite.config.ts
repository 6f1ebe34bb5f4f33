/**
 * electron-vite: main (Node, ESM, dependencies stay external so native modules load from
 * node_modules), preload (CommonJS: sandboxed preloads cannot be ES modules), renderer (Svelte).
 */
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'electron-vite';

export default defineConfig({
  main: {
    build: {
      externalizeDeps: true,
      // Workers are entries of their own, loaded as ./<name>.js beside index.js in a build
      // (from source they load the .ts through a tsx bootstrap). Shared chunks sit beside them too,
      // so `new URL('./batch-worker.js', import.meta.url)` resolves from whichever file holds the code.
      rolldownOptions: {
        output: { chunkFileNames: '[name]-[hash].js' },
        input: {
          index: 'src/main/index.ts',
          'worker-entry': 'src/main/app/worker-entry.ts',
          'batch-worker': 'src/main/train/data/batch-worker.ts',
          'inspect-worker': 'src/main/model/zoo/inspect-worker.ts',
          'image-worker': 'src/main/images/image-worker.ts',
        },
      },
    },
  },
  preload: {
    build: {
      externalizeDeps: true,
      rolldownOptions: {
        input: { index: 'src/preload/index.ts' },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: 'src/renderer',
    base: './',
    plugins: [svelte({ configFile: false })],
    build: { rolldownOptions: { input: { index: 'src/renderer/index.html' } } },
  },
});
