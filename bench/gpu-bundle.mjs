// Packs bench/gpu-check.ts for a lent GPU machine, which has no Node.js and no npm: one ES
// module (bundled with esbuild, which comes with tsx) plus what it cannot bundle, compressed
// with xz so that it fits the 64 MiB that travels (bench/README.md, "gpu-check").
//   .gpu/b/b/gpu-check.mjs         the check; two folders down because the kernel wrappers
//                                  find kernels/wgsl three folders up from their own file
//   .gpu/b/b/*.wasm                tfjs's wasm backend binaries, loaded from beside the bundle
//   .gpu/node_modules/webgpu/      Dawn's package without its native binary
//   .gpu/dawn.node.xz, .gpu/node.xz  that binary (linux-x64) and this Node.js
// usage: node bench/gpu-bundle.mjs   (from the repo root; ignore .gpu/ in .git/info/exclude)
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = '.gpu';
const webgpu = join(dir, 'node_modules', 'webgpu');
mkdirSync(join(webgpu, 'dist', 'linux-x64'), { recursive: true });
await build({
  entryPoints: ['bench/gpu-check.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['webgpu'],
  outfile: join(dir, 'b', 'b', 'gpu-check.mjs'),
  banner: {
    js:
      "import { createRequire as __cr } from 'node:module'; import { fileURLToPath as __fu } from 'node:url'; " +
      "import { dirname as __dn } from 'node:path'; const require = __cr(import.meta.url); " +
      'const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);',
  },
  logLevel: 'error',
});
for (const f of ['package.json', 'index.js']) cpSync(join('node_modules/webgpu', f), join(webgpu, f));
// tfjs's wasm backend loads its binaries from beside the module that asks, here the bundle.
for (const f of [
  'tfjs-backend-wasm.wasm',
  'tfjs-backend-wasm-simd.wasm',
  'tfjs-backend-wasm-threaded-simd.wasm',
])
  cpSync(join('node_modules/@tensorflow/tfjs-backend-wasm/dist', f), join(dir, 'b', 'b', f));
const xz = (from, to) =>
  writeFileSync(to, execFileSync('xz', ['-T2', '-6', '-c', from], { maxBuffer: 1 << 30 }));
xz('node_modules/webgpu/dist/linux-x64/dawn.node', join(dir, 'dawn.node.xz'));
xz(process.execPath, join(dir, 'node.xz'));
console.log(`packed into ${dir}/`);
