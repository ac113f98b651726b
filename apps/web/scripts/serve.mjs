#!/usr/bin/env node
// `npm run web`: the web app in production mode. Builds it first when the build is missing or
// older than its sources (vite build, ~10 s), then serves apps/web/build (adapter-node).
//
//   WEB_HOST, WEB_PORT   where to listen (default 127.0.0.1:5173)
//   AFFECT_STREAM_URL    the stream server the page connects to (default: ws://<the page's
//                        host>:<STREAM_PORT or 8787>/ws)
//   --build              rebuild even when the build looks current
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const web = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(web, '../..');
const entry = join(web, 'build/index.js');

/** Newest modification time under the given files and folders. */
function newest(paths) {
  let t = 0;
  for (const p of paths) {
    if (!existsSync(p)) continue;
    const s = statSync(p);
    if (s.isDirectory()) t = Math.max(t, newest(readdirSync(p).map((f) => join(p, f))));
    else t = Math.max(t, s.mtimeMs);
  }
  return t;
}

const inputs = [
  join(web, 'src'),
  join(web, 'static'),
  join(web, 'package.json'),
  join(web, 'vite.config.ts'),
  join(root, 'svelte.config.js'),
  join(root, 'packages/protocol/src'),
];
const stale = !existsSync(entry) || newest(inputs) > statSync(entry).mtimeMs;
if (stale || process.argv.includes('--build')) {
  console.log(`[web] building the web app (${existsSync(entry) ? 'sources changed' : 'first start'})…`);
  const vitePkg = createRequire(join(web, 'package.json')).resolve('vite/package.json');
  const vite = join(dirname(vitePkg), 'bin/vite.js');
  const built = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], {
    cwd: web,
    stdio: 'inherit',
  });
  if (built.status !== 0) {
    console.error(
      '[web] the build failed (see above); fix it or run `npm run build -w apps/web` to see more',
    );
    process.exit(1);
  }
}

process.env.WEB_HOST ||= '127.0.0.1';
process.env.WEB_PORT ||= '5173';
const host = process.env.WEB_HOST;
const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
const stream =
  process.env.AFFECT_STREAM_URL ||
  `ws://<the page's host>:${process.env.STREAM_PORT || 8787}/ws (set AFFECT_STREAM_URL to change)`;
console.log('affect web app');
console.log(`  open       http://${shown}:${process.env.WEB_PORT}/`);
console.log(`  models     http://${shown}:${process.env.WEB_PORT}/models`);
console.log(`  stream     ${stream}`);
await import(pathToFileURL(entry).href);
