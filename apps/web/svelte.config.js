// The real config is the repository root's svelte.config.js (see the comment there); this
// re-export is what SvelteKit and vite-plugin-svelte find when vite runs in apps/web.
export { default } from '../../svelte.config.js';
