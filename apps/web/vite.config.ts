import { sveltekit } from '@sveltejs/kit/vite';
// From vitest/config rather than vite, so svelte-check type-checks this file against the same
// vite copy vitest uses (the workspace has exactly one: vite 8.3.8).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [sveltekit()],
  server: {
    host: '127.0.0.1',
    port: 5173,
    // The app imports packages/protocol and hoisted node_modules from the repository root.
    fs: { allow: ['../..'] },
  },
  preview: { host: '127.0.0.1', port: 5173 },
  worker: { format: 'es' },
  build: {
    // tfjs with its three backends is ~1.2 MB minified; it loads after the page has rendered.
    chunkSizeWarningLimit: 1600,
    // The timing report names SvelteKit's own plugins and is noise in every build.
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
});
