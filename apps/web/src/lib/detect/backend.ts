// Which tfjs backend runs the detector. The fastest depends on the machine: a real GPU makes
// WebGPU or WebGL fastest, but a software GPU (SwiftShader in a headless or GPU-less browser,
// llvmpipe) makes both slower than wasm. So: GPU backends on a software adapter or renderer
// are ruled out by what they report; what remains is timed on the detector itself (a warm-up
// run, then the median of a few), and the fastest wins. The HUD shows the choice and why.

export type TfBackendName = 'webgpu' | 'webgl' | 'wasm';

export const BACKENDS: readonly TfBackendName[] = ['webgpu', 'webgl', 'wasm'];

export interface GpuProbe {
  backend: 'webgpu' | 'webgl';
  available: boolean;
  /** A CPU implementation of the GPU API (SwiftShader, llvmpipe, WARP…). */
  software: boolean;
  /** Adapter or renderer name, for the HUD. */
  description: string;
}

export interface BackendChoice {
  backend: TfBackendName;
  /** One line for the HUD: what was ruled out, what was timed, what won. */
  reason: string;
  /** Median ms per detection of each timed backend. */
  timings: Partial<Record<TfBackendName, number>>;
  probes: GpuProbe[];
}

const SOFTWARE =
  /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render|microsoft basic|warp|mesa offscreen/i;

export function isSoftwareRenderer(description: string): boolean {
  return SOFTWARE.test(description);
}

/** The backends worth timing, and why the others are not. wasm is always a candidate. */
export function candidates(probes: readonly GpuProbe[]): { timed: TfBackendName[]; notes: string[] } {
  const timed: TfBackendName[] = [];
  const notes: string[] = [];
  for (const p of probes) {
    if (!p.available) notes.push(`${p.backend} unavailable${p.description ? ` (${p.description})` : ''}`);
    else if (p.software)
      notes.push(`${p.backend} skipped: software adapter (${p.description}), slower than wasm`);
    else timed.push(p.backend);
  }
  timed.push('wasm');
  return { timed, notes };
}

/** The fastest of the timed backends; ties go to the earlier one in `order`. */
export function fastest(
  timings: Partial<Record<TfBackendName, number>>,
  order: readonly TfBackendName[],
): TfBackendName {
  let best: TfBackendName | undefined;
  for (const b of order) {
    const ms = timings[b];
    if (ms === undefined || !Number.isFinite(ms)) continue;
    if (best === undefined || ms < (timings[best] as number)) best = b;
  }
  return best ?? 'wasm';
}

/** One line for the HUD: the timings, then why the other backends were not timed. */
export function describeChoice(
  timings: Partial<Record<TfBackendName, number>>,
  notes: readonly string[],
): string {
  const timed = Object.entries(timings).map(
    ([b, ms]) => `${b} ${Number.isFinite(ms) ? `${(ms as number).toFixed(1)} ms` : 'failed'}`,
  );
  const head =
    timed.length > 1 ? `fastest of ${timed.join(', ')}` : `only candidate (${timed[0] ?? 'none timed'})`;
  return [head, ...notes].join('; ');
}

// ── browser probes ─────────────────────────────────────────────────────────────────────

export async function probeWebGpu(): Promise<GpuProbe> {
  const gpu = typeof navigator !== 'undefined' ? navigator.gpu : undefined;
  if (!gpu) return { backend: 'webgpu', available: false, software: false, description: 'no navigator.gpu' };
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return { backend: 'webgpu', available: false, software: false, description: 'no adapter' };
    // adapter.info is recent (Chromium 114, Firefox 127): older browsers have none.
    const info = (adapter.info ?? {}) as Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean };
    const fallback =
      info.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
    const description =
      [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') ||
      'unnamed adapter';
    return {
      backend: 'webgpu',
      available: true,
      software: fallback || isSoftwareRenderer(description),
      description,
    };
  } catch (err) {
    return { backend: 'webgpu', available: false, software: false, description: (err as Error).message };
  }
}

/** The WebGL renderer, probed on an OffscreenCanvas (this runs in the vision worker). */
export function probeWebGl(): GpuProbe {
  if (typeof OffscreenCanvas === 'undefined') {
    return { backend: 'webgl', available: false, software: false, description: 'no OffscreenCanvas' };
  }
  const canvas = new OffscreenCanvas(1, 1);
  const gl = (canvas.getContext('webgl2') ?? canvas.getContext('webgl')) as WebGLRenderingContext | null;
  if (!gl) return { backend: 'webgl', available: false, software: false, description: 'no WebGL context' };
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return {
    backend: 'webgl',
    available: true,
    software: isSoftwareRenderer(renderer),
    description: renderer || 'WebGL',
  };
}
