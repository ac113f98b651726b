// The WebGPU device in Node (Dawn's `webgpu` package). One GpuContext object owns its adapter
// and device, so two contexts (two servers in one test process) never share a device. The only
// module-level state is the Dawn instance per backend, which lives as long as the process: see
// dawnInstance() for why it must never be garbage-collected.
//
// Adapter order: a hardware GPU, then the software Vulkan adapter (Mesa lavapipe), then
// Dawn's OpenGL ES backend in compatibility mode. See docs/gpu.md.

/** Which of the three ways of getting a device was used. */
export type AdapterPath = 'hardware' | 'software' | 'opengles';

export type GpuBackend = 'vulkan' | 'metal' | 'd3d12' | 'opengles';

/** The limits our kernels and tfjs care about, as granted to the device. */
export interface GpuLimits {
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupsPerDimension: number;
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  maxComputeWorkgroupStorageSize: number;
}

export interface AdapterReport {
  path: AdapterPath;
  backend: GpuBackend;
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** What the adapter says about itself (lavapipe says true, Mesa's GL driver says false). */
  isFallbackAdapter: boolean;
  /** Our verdict: a CPU implementation (lavapipe, llvmpipe, SwiftShader), whatever the flag says. */
  software: boolean;
  featureLevel: 'core' | 'compatibility';
  limits: GpuLimits;
}

export type GpuState = 'ready' | 'lost' | 'destroyed';

export interface GpuOptions {
  /** Use only this path instead of trying all three in order. */
  prefer?: AdapterPath;
  /** Called when the device is lost for any reason other than our own destroy(). */
  onLost?: (info: GPUDeviceLostInfo, ctx: GpuContext) => void;
  /** Errors no error scope caught; default: console.error. */
  onUncapturedError?: (error: GPUError) => void;
}

export interface GpuContext {
  readonly device: GPUDevice;
  readonly adapter: GPUAdapter;
  /**
   * The Dawn instance (the object returned by create()), e.g. for `navigator.gpu`. Shared by the
   * contexts on the same backend and never released (see dawnInstance()). Throws after destroy().
   */
  readonly gpu: GPU;
  readonly report: AdapterReport;
  readonly state: GpuState;
  /** Calls listener on every state change; returns the unsubscribe function. */
  onStateChange(listener: (state: GpuState) => void): () => void;
  /** Per-device cache (pipelines, layouts): built once, dropped when the device is replaced. */
  memo<T>(key: string, make: (device: GPUDevice) => Promise<T>): Promise<T>;
  /** A fresh adapter and device after a loss; kernels rebuild their pipelines on next use. */
  recreate(): Promise<void>;
  /** Destroys the device. Node can then exit; the shared Dawn instance does not keep it alive. */
  destroy(): void;
}

export const INSTALL_HINT =
  'Install a Vulkan driver: apt-get install -t bookworm-backports mesa-vulkan-drivers libvulkan1 ' +
  '(see README, or run .ci/install-system.sh as root). For the OpenGL ES fallback: ' +
  'apt-get install libegl1 libgles2 libegl-mesa0 libegl-dev.';

export class GpuUnavailableError extends Error {
  readonly code = 'gpu-unavailable';
  constructor(readonly attempts: string[]) {
    super(`no WebGPU adapter found (${attempts.join('; ')}). ${INSTALL_HINT}`);
    this.name = 'GpuUnavailableError';
  }
}

type DawnCreate = (options: string[]) => GPU;

// One Dawn instance per backend flag, created on first use and referenced until the process ends.
// In dawn.node (webgpu 0.6.2) the object returned by create() owns the native instance and frees
// it when it is garbage-collected, but every adapter, device, queue and buffer made from it keeps
// a raw pointer to that instance for its event processing (AsyncRunner): a ProcessEvents tick it
// queued with setImmediate (requestDevice, mapAsync, popErrorScope... each queue one), or any
// later mapAsync on a buffer of a destroyed device, then runs on freed memory and the process
// dies (SIGSEGV, or "terminate called after throwing ... std::system_error"). That happened
// whenever a GC ran between dropping our last reference and that tick: a rare "Worker exited
// unexpectedly" in the test suite under load. Holding the instance costs one Vulkan (or EGL)
// instance per process and does not keep Node from exiting (exit.test.ts); adapters and devices
// are still separate per context, and recreate() still gets a fresh adapter from it.
// The map hangs off globalThis so that a second copy of this module (a test runner that
// re-evaluates modules, two bundles) neither drops it nor makes instances of its own.
const dawnInstances: Map<string, GPU> = ((globalThis as Record<symbol, unknown>)[
  Symbol.for('@affect/gpu dawn instances')
] ??= new Map<string, GPU>()) as Map<string, GPU>;

function dawnInstance(create: DawnCreate, backendFlag: string): GPU {
  let gpu = dawnInstances.get(backendFlag);
  if (!gpu) {
    gpu = create([backendFlag]);
    dawnInstances.set(backendFlag, gpu);
  }
  return gpu;
}

interface Selected {
  gpu: GPU;
  adapter: GPUAdapter;
  path: AdapterPath;
  backend: GpuBackend;
}

// Dawn's native backend for the platform; we name it explicitly so the report is true.
function nativeBackend(): GpuBackend {
  if (process.platform === 'darwin') return 'metal';
  if (process.platform === 'win32') return 'd3d12';
  return 'vulkan';
}

// Mesa's GL driver reports isFallbackAdapter false although it is llvmpipe, so look at names too.
function isSoftwareAdapter(info: GPUAdapterInfo): boolean {
  const names = `${info.architecture} ${info.device} ${info.description}`;
  return info.isFallbackAdapter || /software|llvmpipe|lavapipe|swiftshader|softpipe/i.test(names);
}

async function selectAdapter(create: DawnCreate, prefer: AdapterPath | undefined): Promise<Selected> {
  const attempts: string[] = [];
  const wants = (path: AdapterPath) => prefer === undefined || prefer === path;

  if (wants('hardware') || wants('software')) {
    const backend = nativeBackend();
    try {
      const gpu = dawnInstance(create, `backend=${backend}`);
      if (wants('hardware')) {
        const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
        if (adapter && !isSoftwareAdapter(adapter.info)) return { gpu, adapter, path: 'hardware', backend };
        attempts.push(
          adapter ? `hardware: only a software adapter (${adapter.info.description})` : 'hardware: none',
        );
      }
      if (wants('software')) {
        // With lavapipe, forceFallbackAdapter gives null (dawn.node 0.6.2) although the
        // default adapter then says isFallbackAdapter: so ask both ways.
        const adapter =
          (await gpu.requestAdapter({ forceFallbackAdapter: true })) ?? (await gpu.requestAdapter());
        if (adapter && isSoftwareAdapter(adapter.info)) return { gpu, adapter, path: 'software', backend };
        attempts.push(
          adapter
            ? `software: only hardware (${adapter.info.description})`
            : `software: no ${backend} adapter`,
        );
      }
    } catch (err) {
      attempts.push(`${backend}: ${(err as Error).message.split('\n')[0]}`);
    }
  }

  if (wants('opengles')) {
    // Dawn's GL backend reads EGL_PLATFORM; surfaceless needs no display server.
    process.env.EGL_PLATFORM ??= 'surfaceless';
    try {
      const gpu = dawnInstance(create, 'backend=opengles');
      const adapter = await gpu.requestAdapter({ featureLevel: 'compatibility' });
      if (adapter) return { gpu, adapter, path: 'opengles', backend: 'opengles' };
      attempts.push('opengles: none');
    } catch (err) {
      attempts.push(`opengles: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new GpuUnavailableError(attempts);
}

// Raise the limits that bound our batch sizes and tfjs's matmuls to what the adapter
// allows; the defaults (128 MiB bindings, 256 MiB buffers, 256 invocations) are lower.
function requiredLimits(adapter: GPUAdapter): Record<string, number> {
  const a = adapter.limits;
  return {
    maxStorageBufferBindingSize: a.maxStorageBufferBindingSize,
    maxBufferSize: a.maxBufferSize,
    maxComputeInvocationsPerWorkgroup: a.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: a.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupSizeY: a.maxComputeWorkgroupSizeY,
    maxComputeWorkgroupStorageSize: a.maxComputeWorkgroupStorageSize,
    maxComputeWorkgroupsPerDimension: a.maxComputeWorkgroupsPerDimension,
  };
}

function reportOf(selected: Selected, device: GPUDevice): AdapterReport {
  const { adapter, path, backend } = selected;
  // adapter.info is a class with getters: copy each field, spreading it would give {}.
  const info = adapter.info;
  const l = device.limits;
  return {
    path,
    backend,
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isFallbackAdapter: info.isFallbackAdapter,
    software: isSoftwareAdapter(info),
    featureLevel: adapter.features.has('core-features-and-limits') ? 'core' : 'compatibility',
    limits: {
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    },
  };
}

/** Finds an adapter (hardware → software Vulkan → OpenGL ES) and opens a device on it. */
export async function createGpu(options: GpuOptions = {}): Promise<GpuContext> {
  // Imported here, not at the top, so CPU-only users of this package never load dawn.node.
  const { create, globals } = await import('webgpu');
  // tfjs and our wrappers use the WebGPU globals (GPUBufferUsage, GPUShaderStage, ...).
  Object.assign(globalThis, globals);

  let selected: Selected | null = null;
  let device!: GPUDevice;
  let report!: AdapterReport;
  let state: GpuState = 'ready';
  let cache = new Map<string, Promise<unknown>>();
  const listeners = new Set<(state: GpuState) => void>();

  const setState = (next: GpuState) => {
    state = next;
    for (const listener of listeners) listener(next);
  };

  async function openDevice(from: Selected): Promise<GPUDevice> {
    const opened = await from.adapter.requestDevice({ requiredLimits: requiredLimits(from.adapter) });
    opened.addEventListener('uncapturederror', (event) => {
      const error = (event as GPUUncapturedErrorEvent).error;
      if (options.onUncapturedError) options.onUncapturedError(error);
      else console.error(`[gpu] uncaptured ${error.constructor.name}: ${error.message}`);
    });
    void opened.lost.then((info) => {
      // Ours to ignore: destroy() or recreate() replaced this device on purpose.
      if (opened !== device || state !== 'ready') return;
      setState('lost');
      options.onLost?.(info, ctx);
    });
    return opened;
  }

  selected = await selectAdapter(create, options.prefer);
  device = await openDevice(selected);
  report = reportOf(selected, device);

  const ctx: GpuContext = {
    get device() {
      return device;
    },
    get adapter() {
      if (!selected) throw new Error('GpuContext was destroyed');
      return selected.adapter;
    },
    get gpu() {
      if (!selected) throw new Error('GpuContext was destroyed');
      return selected.gpu;
    },
    get report() {
      return report;
    },
    get state() {
      return state;
    },
    onStateChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    memo<T>(key: string, make: (device: GPUDevice) => Promise<T>): Promise<T> {
      let entry = cache.get(key) as Promise<T> | undefined;
      if (!entry) {
        entry = make(device);
        // A failed build should be retried next time, not cached forever.
        entry.catch(() => cache.get(key) === entry && cache.delete(key));
        cache.set(key, entry);
      }
      return entry;
    },
    async recreate() {
      if (state === 'destroyed') throw new Error('GpuContext was destroyed; call createGpu() again');
      const old = device;
      // An adapter hands out one device only, so select again (same preference).
      const next = await selectAdapter(create, options.prefer);
      const nextDevice = await openDevice(next);
      selected = next;
      device = nextDevice;
      report = reportOf(next, nextDevice);
      cache = new Map();
      old.destroy();
      setState('ready');
    },
    destroy() {
      if (state === 'destroyed') return;
      setState('destroyed');
      device.destroy();
      cache = new Map();
      // Only this context lets go: the Dawn instance stays referenced in dawnInstances.
      selected = null;
    },
  };
  return ctx;
}

/** How to say which adapter we got, in one line. */
export function formatAdapter(report: AdapterReport): string {
  const kind = report.software ? 'software' : 'hardware';
  const name = report.description || report.device || 'unknown adapter';
  return `${name} (${kind}, ${report.backend}, ${report.featureLevel}${report.isFallbackAdapter ? ', fallback' : ''})`;
}
