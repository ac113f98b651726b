#!/usr/bin/env node
// `npm run web`: the web app in production mode. Builds it first when the build is missing or
// older than its sources (vite build, ~10 s), then serves apps/web/build (adapter-node).
//
//   WEB_HOST, WEB_PORT   where to listen (default 127.0.0.1:5173)
//   AFFECT_STREAM_URL    the stream server the page connects to (default: ws://<the page's
//                        host>:<STREAM_PORT or 8787>/ws)
//   --build              rebuild even when the build looks current
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
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
  // Dependencies changed (an upgrade, a new package).
  join(root, 'package-lock.json'),
];
/**
 * Runs fn holding a lock on this checkout's build: two builds at once (npm run web while the
 * browser test builds) would delete each other's output. A lock whose process is gone is taken over.
 */
async function withBuildLock(fn) {
  const lock = join(
    tmpdir(),
    `affect-web-build-${createHash('sha1').update(web).digest('hex').slice(0, 12)}.lock`,
  );
  let said = false;
  for (;;) {
    try {
      const fd = openSync(lock, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const holder = Number(readFileSync(lock, 'utf8')) || 0;
      if (!alive(holder)) {
        rmSync(lock, { force: true });
        continue;
      }
      if (!said) console.log(`[web] waiting for another build of the web app (pid ${holder})…`);
      said = true;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { force: true });
  }
}

function alive(pid) {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

const isStale = () => !existsSync(entry) || newest(inputs) > statSync(entry).mtimeMs;
if (isStale() || process.argv.includes('--build')) {
  await withBuildLock(() => {
    // Another process may have built it while we waited.
    if (!isStale() && !process.argv.includes('--build')) return;
    console.log(`[web] building the web app (${existsSync(entry) ? 'sources changed' : 'first start'})…`);
    const vitePkg = createRequire(join(web, 'package.json')).resolve('vite/package.json');
    const vite = join(dirname(vitePkg), 'bin/vite.js');
    const started = Date.now();
    // Quiet unless it fails: the build's chatter would bury the URLs below.
    const built = spawnSync(process.execPath, [vite, 'build'], {
      cwd: web,
      encoding: 'utf8',
      maxBuffer: 1 << 26,
    });
    if (built.status !== 0) {
      process.stderr.write(`${built.stdout ?? ''}${built.stderr ?? ''}`);
      console.error('[web] the build failed (above); `npm run build -w apps/web` runs it alone');
      process.exit(1);
    }
    console.log(`[web] built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
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
