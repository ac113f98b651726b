#!/usr/bin/env node
// `npm start`: starts the product's processes side by side and stops them together: the
// stream server with the shipped models, and the web app (built on first start) that talks
// to it. Arguments go to the stream server (`npm start -- --transport ws`); STREAM_PORT moves
// the server and the page follows it, WEB_HOST/WEB_PORT move the web app.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const services = [
  {
    name: 'stream-server',
    args: [
      join(root, 'bin/run-ts.mjs'),
      join(root, 'apps/stream-server/src/main.ts'),
      ...process.argv.slice(2),
    ],
  },
  {
    name: 'web',
    args: [join(root, 'apps/web/scripts/serve.mjs')],
  },
];

const children = services.map(({ name, args }) => {
  const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
  child.on('exit', (code, signal) => {
    console.log(`[start] ${name} exited (${signal ?? code})`);
    // One service gone means the product is down: stop the others and report the failure.
    stopAll('SIGTERM');
    if (children.every((c) => c.exitCode !== null || c.signalCode !== null)) {
      process.exit(code ?? (signal === 'SIGINT' || signal === 'SIGTERM' ? 0 : 1));
    }
  });
  return child;
});

function stopAll(signal) {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill(signal);
}

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stopAll(signal));
