/**
 * The renderer alone, for browser mode (`npm run serve`, e2e tests): the same app electron-vite
 * builds for the window, written to the same out/renderer.
 */
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('src/renderer', import.meta.url)),
  // Relative asset URLs work both from file:// (Electron) and from the server's root.
  base: './',
  plugins: [svelte({ configFile: false })],
  build: {
    outDir: fileURLToPath(new URL('out/renderer', import.meta.url)),
    emptyOutDir: true,
  },
});
