// Adapter selection, the report, uncaptured errors, device loss and recreate, on the real adapter.
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, test, vi } from 'vitest';
import { createGpu, GpuUnavailableError, type GpuContext, type GpuState } from './device.ts';
import { readFloat32 } from './kernel.ts';
import { preprocess } from './preprocess.ts';
import { preprocessReference } from './preprocess-reference.ts';
import { gpuForTests, maxAbsDiff, randomCrop, seeded } from './test-support.ts';

const probe = await gpuForTests();
probe?.destroy();

/** The kernel still gives the reference's numbers on this context's current device. */
async function kernelWorks(ctx: GpuContext): Promise<boolean> {
  const crops = [randomCrop(seeded(31), 70, 50)];
  const { buffer } = await preprocess(ctx, crops);
  const diff = maxAbsDiff(await readFloat32(ctx, buffer), preprocessReference(crops));
  buffer.destroy();
  return diff < 1e-4;
}

describe.skipIf(!probe)('createGpu on this machine', () => {
  test('reports the adapter it chose, with the limits raised to the adapter’s', async () => {
    const ctx = await createGpu();
    try {
      const { report } = ctx;
      expect(['hardware', 'software', 'opengles']).toContain(report.path);
      if (report.path !== 'opengles') expect(report.software).toBe(report.path === 'software');
      expect(report.description.length).toBeGreaterThan(0);
      expect(report.featureLevel).toBe(report.path === 'opengles' ? 'compatibility' : 'core');
      expect(report.limits.maxStorageBufferBindingSize).toBe(ctx.adapter.limits.maxStorageBufferBindingSize);
      expect(report.limits.maxBufferSize).toBe(ctx.adapter.limits.maxBufferSize);
      expect(report.limits.maxComputeInvocationsPerWorkgroup).toBe(
        ctx.adapter.limits.maxComputeInvocationsPerWorkgroup,
      );
      expect(ctx.device.limits.maxBufferSize).toBe(report.limits.maxBufferSize);
      console.info(`[@affect/gpu] adapter: ${report.description} (${report.path}, ${report.backend})`);
      expect(await kernelWorks(ctx)).toBe(true);
    } finally {
      ctx.destroy();
    }
  });

  test('prefer: hardware gives a hardware adapter or says what to install', async () => {
    try {
      const ctx = await createGpu({ prefer: 'hardware' });
      expect(ctx.report.software).toBe(false);
      ctx.destroy();
    } catch (err) {
      expect(err).toBeInstanceOf(GpuUnavailableError);
      expect((err as Error).message).toMatch(
        /hardware: .*apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1/,
      );
    }
  });

  test('prefer: opengles runs the kernels in compatibility mode, or says why not', async () => {
    let ctx: GpuContext;
    try {
      ctx = await createGpu({ prefer: 'opengles' });
    } catch (err) {
      expect(err).toBeInstanceOf(GpuUnavailableError);
      expect((err as Error).message).toMatch(/opengles: /);
      return;
    }
    try {
      expect(ctx.report).toMatchObject({
        path: 'opengles',
        backend: 'opengles',
        featureLevel: 'compatibility',
      });
      expect(await kernelWorks(ctx)).toBe(true);
    } finally {
      ctx.destroy();
    }
  });

  test('uncaptured GPU errors reach onUncapturedError', async () => {
    const errors: GPUError[] = [];
    const ctx = await createGpu({ onUncapturedError: (e) => errors.push(e) });
    try {
      ctx.device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.STORAGE });
      await vi.waitFor(() => expect(errors.length).toBe(1));
      expect(errors[0].constructor.name).toBe('GPUValidationError');
    } finally {
      ctx.destroy();
    }
  });

  test('a lost device calls onLost and changes state; recreate() brings back a working device', async () => {
    const onLost = vi.fn();
    const ctx = await createGpu({ onLost });
    const states: GpuState[] = [];
    ctx.onStateChange((s) => states.push(s));
    try {
      expect(await kernelWorks(ctx)).toBe(true);
      const first = ctx.device;
      first.destroy(); // as if the driver had reset: not through ctx.destroy()
      await vi.waitFor(() => expect(onLost).toHaveBeenCalledTimes(1));
      expect(onLost.mock.calls[0][0].reason).toBe('destroyed');
      expect(onLost.mock.calls[0][1]).toBe(ctx);
      expect(ctx.state).toBe('lost');

      await ctx.recreate();
      expect(ctx.state).toBe('ready');
      expect(ctx.device).not.toBe(first);
      // The cached pipeline belonged to the dead device; the kernel must rebuild it.
      expect(await kernelWorks(ctx)).toBe(true);
      expect(states).toEqual(['lost', 'ready']);
      expect(onLost).toHaveBeenCalledTimes(1);
    } finally {
      ctx.destroy();
    }
  });

  test('destroy() is not a loss: no onLost, state destroyed, Dawn instance dropped', async () => {
    const onLost = vi.fn();
    const ctx = await createGpu({ onLost });
    const lost = ctx.device.lost;
    ctx.destroy();
    expect((await lost).reason).toBe('destroyed');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(onLost).not.toHaveBeenCalled();
    expect(ctx.state).toBe('destroyed');
    expect(() => ctx.gpu).toThrow(/destroyed/);
    await expect(ctx.recreate()).rejects.toThrow(/destroyed/);
    ctx.destroy(); // twice is harmless
  });

  test('two contexts are independent: destroying one leaves the other working', async () => {
    const [a, b] = [await createGpu(), await createGpu()];
    expect(await kernelWorks(a)).toBe(true);
    expect(await kernelWorks(b)).toBe(true);
    a.destroy();
    expect(await kernelWorks(b)).toBe(true);
    b.destroy();
  });

  test('garbage collection right after destroy() or recreate() does not crash the process', async () => {
    // In a child process with --expose-gc: when Dawn's instance was collected while one of its
    // event ticks was still queued, the process died (this worker too, "exited unexpectedly").
    const { code, signal, stdout, stderr } = await runFixture(['--expose-gc'], 'gc-after-destroy.ts');
    expect({ code, signal }, stderr).toEqual({ code: 0, signal: null });
    expect(stdout.trim().split('\n').at(-1)).toMatch(/^survived 3 (3|unavailable)$/);
  });
});

/** Runs fixtures/<name> in a child Node process and reports how it ended. */
async function runFixture(
  nodeArgs: string[],
  name: string,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const repo = fileURLToPath(new URL('../../../', import.meta.url));
  const child = spawn(
    process.execPath,
    [...nodeArgs, 'bin/run-ts.mjs', `packages/gpu/src/fixtures/${name}`],
    {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  // Long enough for a cold start on a busy 2-core machine.
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  clearTimeout(timer);
  return { code, signal, stdout, stderr };
}

/** createGpu() in a child process whose environment hides some drivers. */
async function adapterWith(
  env: Record<string, string>,
): Promise<{ path?: string; code?: string; message?: string }> {
  const repo = fileURLToPath(new URL('../../../', import.meta.url));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['bin/run-ts.mjs', 'packages/gpu/src/fixtures/print-adapter.ts'],
    { cwd: repo, env: { ...process.env, ...env }, timeout: 60_000 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

// The Vulkan loader reads VK_ICD_FILENAMES and libglvnd __EGL_VENDOR_LIBRARY_FILENAMES:
// pointing them at nothing removes a driver without touching the machine.
const noVulkan = { VK_ICD_FILENAMES: '/nonexistent/vulkan-icd.json' };
const noEgl = { __EGL_VENDOR_LIBRARY_FILENAMES: '/nonexistent/egl-vendor.json' };

describe.skipIf(!probe || probe.report.path === 'hardware')('the fallback order, with drivers hidden', () => {
  test('without Vulkan, the OpenGL ES path is next (or a clear error when GL is missing too)', async () => {
    const result = await adapterWith(noVulkan);
    if (result.path) expect(result).toMatchObject({ path: 'opengles', backend: 'opengles' });
    else expect(result.message).toMatch(/software: no vulkan adapter; opengles: /);
  });

  test('without any driver, createGpu names what to install', async () => {
    const result = await adapterWith({ ...noVulkan, ...noEgl });
    expect(result.code).toBe('gpu-unavailable');
    expect(result.message).toContain('hardware: none; software: no vulkan adapter; opengles: none');
    expect(result.message).toContain('apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1');
  });
});

test('GpuUnavailableError lists the attempts and names what to install', () => {
  const err = new GpuUnavailableError(['hardware: none', 'software: no vulkan adapter', 'opengles: none']);
  expect(err.code).toBe('gpu-unavailable');
  expect(err.message).toContain('hardware: none; software: no vulkan adapter; opengles: none');
  expect(err.message).toContain('apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1');
  expect(err.message).toContain('README');
});
