// Where the repository's files are at run time. The app runs from source (vite dev) or from
// apps/web/build (adapter-node), so it looks upward from its own location and the working
// directory for the repository root: the folder with svelte.config.js and apps/web.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export function findRepoRoot(
  starts: string[] = [dirname(fileURLToPath(import.meta.url)), process.cwd()],
): string {
  for (const start of starts) {
    let dir = resolve(start);
    for (;;) {
      if (existsSync(join(dir, 'svelte.config.js')) && existsSync(join(dir, 'apps/web/package.json')))
        return dir;
      const up = dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  throw new Error(
    `cannot find the repository root (a folder with svelte.config.js and apps/web) above ${starts.join(' or ')}`,
  );
}

/** models/ of the repository, or AFFECT_MODELS_DIR when set. */
export function modelsDir(env: Record<string, string | undefined> = process.env): string {
  return env.AFFECT_MODELS_DIR ? resolve(env.AFFECT_MODELS_DIR) : join(findRepoRoot(), 'models');
}
