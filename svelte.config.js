// The SvelteKit config of the web client (apps/web). It lives at the repository root because
// the root is where the project's top-level configs are; apps/web/svelte.config.js re-exports
// it, because SvelteKit and vite-plugin-svelte look for svelte.config.js in the folder vite
// runs from (apps/web). Every path is absolute, computed from this file's location, so the
// config means the same thing whichever of the two folders a tool starts from (vite,
// svelte-kit sync, svelte-check).
import adapter from '@sveltejs/adapter-node';
import { fileURLToPath } from 'node:url';

const web = (path) => fileURLToPath(new URL(`apps/web/${path}`, import.meta.url));

/** @type {import('@sveltejs/kit').Config} */
const config = {
  compilerOptions: { runes: true },
  kit: {
    // The built server reads WEB_HOST, WEB_PORT, WEB_ORIGIN… (not HOST/PORT, which other tools use).
    adapter: adapter({ out: web('build'), precompress: false, envPrefix: 'WEB_' }),
    outDir: web('.svelte-kit'),
    // lib, routes, hooks, params and app.html default to places inside files.src.
    files: { src: web('src'), assets: web('static') },
  },
};

export default config;
