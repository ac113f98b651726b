// `fer doctor`: which GPU adapter this machine gives us, which tfjs backends really work
// (each runs a small matMul checked against float64), and the versions involved.
import { createRequire } from 'node:module';
import {
  createGpu,
  createTfWebgpuBackend,
  formatAdapter,
  initWasmBackend,
  mulberry32,
  type AdapterPath,
  type AdapterReport,
  type GpuContext,
  type Tf,
} from '@affect/gpu';
import { choiceFlag, parseCommandArgs } from './args.ts';
import type { Command } from './main.ts';

const USAGE = `usage: fer doctor [--json] [--prefer hardware|software|opengles]

Finds a WebGPU adapter (hardware GPU, else the software Vulkan adapter lavapipe, else Dawn's
OpenGL ES backend), prints what it is and its limits, checks each way of getting an adapter,
runs a small matMul on the tfjs webgpu (on that adapter), wasm and cpu backends, and prints
the versions of node, tfjs, Dawn and Mesa. Exits 0 when it could report, whatever it found.

options:
  --json                 print the report as JSON
  --prefer <path>        use only this way of getting an adapter
  -h, --help             show this help`;

const PATHS: AdapterPath[] = ['hardware', 'software', 'opengles'];

interface PathCheck {
  path: AdapterPath;
  ok: boolean;
  detail: string;
}

interface BackendCheck {
  name: 'webgpu' | 'wasm' | 'cpu';
  ok: boolean;
  /** Largest |difference| from the float64 product. */
  maxAbsDiff?: number;
  ms?: number;
  detail: string;
}

interface DoctorReport {
  adapter: AdapterReport | null;
  adapterError: string | null;
  paths: PathCheck[];
  tfjs: BackendCheck[];
  versions: Record<string, string>;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0];

async function checkPath(path: AdapterPath): Promise<PathCheck> {
  try {
    const ctx = await createGpu({ prefer: path, onUncapturedError: () => {} });
    const detail = formatAdapter(ctx.report);
    ctx.destroy();
    return { path, ok: true, detail };
  } catch (err) {
    // Keep this path's reason from GpuUnavailableError's message; the install hint is shown once, above.
    const reason = /^no WebGPU adapter found \((.*)\)\. Install/.exec(message(err))?.[1] ?? message(err);
    return { path, ok: false, detail: reason.replace(`${path}: `, '') };
  }
}

// 32x48 by 48x16 with seeded values: small, but enough to run tfjs's real matMul programs.
async function checkBackend(
  tf: Tf,
  name: BackendCheck['name'],
  activate: () => Promise<string>,
): Promise<BackendCheck> {
  const [m, k, n] = [32, 48, 16];
  const random = mulberry32(7);
  const a = Float32Array.from({ length: m * k }, () => random() - 0.5);
  const b = Float32Array.from({ length: k * n }, () => random() - 0.5);
  try {
    const detail = await activate();
    const run = async () => {
      const product = tf.tidy(() => tf.matMul(tf.tensor2d(a, [m, k]), tf.tensor2d(b, [k, n])));
      const values = await product.data(); // not dataSync: it throws on webgpu in Node
      product.dispose();
      return values;
    };
    await run(); // the first run compiles shaders or sets up wasm; time the second
    const start = performance.now();
    const got = await run();
    const ms = performance.now() - start;
    let maxAbsDiff = 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let exact = 0;
        for (let t = 0; t < k; t++) exact += a[i * k + t] * b[t * n + j];
        maxAbsDiff = Math.max(maxAbsDiff, Math.abs(got[i * n + j] - exact));
      }
    }
    return {
      name,
      ok: maxAbsDiff < 1e-4,
      maxAbsDiff,
      ms,
      detail: maxAbsDiff < 1e-4 ? detail : `wrong result; ${detail}`,
    };
  } catch (err) {
    return { name, ok: false, detail: message(err) };
  }
}

function packageVersion(name: string): string {
  try {
    return (createRequire(import.meta.url)(`${name}/package.json`) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

async function diagnose(prefer: AdapterPath | undefined): Promise<DoctorReport> {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');

  let ctx: GpuContext | null = null;
  let adapterError: string | null = null;
  try {
    ctx = await createGpu({ prefer });
  } catch (err) {
    adapterError = (err as Error).message;
  }
  const paths = [];
  for (const path of prefer ? [prefer] : PATHS) paths.push(await checkPath(path));

  const tfjs: BackendCheck[] = [];
  tfjs.push(
    await checkBackend(tf, 'cpu', async () => {
      if (!(await tf.setBackend('cpu'))) throw new Error("tf.setBackend('cpu') returned false");
      return 'pure JavaScript';
    }),
  );
  tfjs.push(
    await checkBackend(tf, 'wasm', async () => {
      await initWasmBackend(tf);
      const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
      return `SIMD ${simd ? 'on' : 'off'}, threads off`;
    }),
  );
  let webgpuDispose = () => {};
  tfjs.push(
    await checkBackend(tf, 'webgpu', async () => {
      if (!ctx) throw new Error('no adapter (see above)');
      webgpuDispose = (await createTfWebgpuBackend(ctx, tf)).dispose;
      return `on our device: ${ctx.report.description}`;
    }),
  );
  webgpuDispose();

  const adapter = ctx?.report ?? null;
  ctx?.destroy();
  const mesa = /Mesa [\w.~+-]+/.exec(paths.map((p) => p.detail).join(' ') + (adapter?.description ?? ''));
  return {
    adapter,
    adapterError,
    paths,
    tfjs,
    versions: {
      node: process.versions.node,
      '@tensorflow/tfjs-core': tf.version_core,
      '@tensorflow/tfjs-backend-webgpu': packageVersion('@tensorflow/tfjs-backend-webgpu'),
      '@tensorflow/tfjs-backend-wasm': packageVersion('@tensorflow/tfjs-backend-wasm'),
      'webgpu (Dawn)': packageVersion('webgpu'),
      driver: mesa ? mesa[0] : 'not visible in the adapter description',
    },
  };
}

const mib = (bytes: number) =>
  bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(bytes % 2 ** 30 ? 1 : 0)} GiB` : `${bytes / 2 ** 20} MiB`;

function formatText(r: DoctorReport): string {
  const lines = ['GPU adapter'];
  const a = r.adapter;
  if (a) {
    const path =
      a.path === 'software'
        ? 'software (CPU Vulkan driver: correct, slow)'
        : a.path === 'opengles'
          ? 'OpenGL ES compatibility mode'
          : 'hardware GPU';
    lines.push(
      `  path            ${path}`,
      `  backend         ${a.backend}`,
      `  vendor          ${a.vendor || '(empty)'}`,
      `  architecture    ${a.architecture || '(empty)'}`,
      `  device          ${a.device}`,
      `  description     ${a.description}`,
      `  fallback        ${a.isFallbackAdapter ? 'yes' : 'no'} (adapter's flag); software: ${a.software ? 'yes' : 'no'}`,
      `  feature level   ${a.featureLevel}`,
      '  limits',
      `    maxComputeInvocationsPerWorkgroup  ${a.limits.maxComputeInvocationsPerWorkgroup}`,
      `    maxComputeWorkgroupsPerDimension   ${a.limits.maxComputeWorkgroupsPerDimension}`,
      `    maxStorageBufferBindingSize        ${mib(a.limits.maxStorageBufferBindingSize)}`,
      `    maxBufferSize                      ${mib(a.limits.maxBufferSize)}`,
      `    maxComputeWorkgroupStorageSize     ${a.limits.maxComputeWorkgroupStorageSize / 1024} KiB`,
    );
  } else {
    lines.push(`  none: ${r.adapterError}`);
  }
  lines.push('', 'Ways of getting an adapter');
  for (const p of r.paths) lines.push(`  ${p.path.padEnd(10)} ${p.ok ? 'yes' : 'no '}  ${p.detail}`);
  lines.push('', 'tfjs backends (32x48 · 48x16 matMul against float64, second run timed)');
  for (const b of r.tfjs) {
    const numbers =
      b.maxAbsDiff === undefined
        ? ''
        : `max |diff| ${b.maxAbsDiff.toExponential(1)}, ${b.ms!.toFixed(1)} ms; `;
    lines.push(`  ${b.name.padEnd(7)} ${b.ok ? 'ok  ' : 'FAIL'}  ${numbers}${b.detail}`);
  }
  lines.push('', 'Versions');
  for (const [name, version] of Object.entries(r.versions)) lines.push(`  ${name.padEnd(32)} ${version}`);
  return lines.join('\n');
}

export const doctorCommand: Command = {
  async run(argv) {
    const values = parseCommandArgs(argv, { json: { type: 'boolean' }, prefer: { type: 'string' } }, USAGE);
    if (!values) return 0;
    const report = await diagnose(choiceFlag(values.prefer, 'prefer', PATHS, USAGE));
    console.log(values.json ? JSON.stringify(report, null, 2) : formatText(report));
    return 0;
  },
};
