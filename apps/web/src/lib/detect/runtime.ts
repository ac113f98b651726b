// The detector in the browser (inside the vision worker): tfjs with its GPU and wasm backends,
// the backend choice of backend.ts carried out (probe, time, pick), and BlazeFace loaded on
// the winner.
import * as tf from '@tensorflow/tfjs-core';
import { io } from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
// The wasm binaries, emitted by vite as assets of the app (never fetched from a CDN).
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { BlazeFaceDetector, type Detection, type DetectOptions } from './blazeface.ts';
import {
  BACKENDS,
  candidates,
  describeChoice,
  fastest,
  probeWebGl,
  probeWebGpu,
  type BackendChoice,
  type TfBackendName,
} from './backend.ts';

/** Where the app serves the detector's weights (routes/detector/[file]). */
export const DETECTOR_URL = '/detector/blazeface.json';

export interface BrowserDetector {
  choice: BackendChoice;
  /** 'SIMD, 2 threads' and the like for wasm; the adapter or renderer for GPU backends. */
  backendDetail: string;
  detect(source: ImageBitmap, options?: DetectOptions): Promise<Detection[]>;
  dispose(): void;
}

function configureTfjs(): void {
  try {
    setWasmPaths({
      'tfjs-backend-wasm.wasm': wasmPlain,
      'tfjs-backend-wasm-simd.wasm': wasmSimd,
      'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
    });
  } catch {
    // Already initialised by an earlier start: the paths are set.
  }
  // Video frames go to WebGPU through an ImageBitmap; importing them as external textures
  // fails on some adapters (SwiftShader among them).
  tf.env().set('WEBGPU_IMPORT_EXTERNAL_TEXTURE', false);
  // The threaded wasm build starts its workers from the source text of a function of the
  // bundle, which minification breaks ("e is not defined" in the worker); it would also need
  // cross-origin isolation. SIMD on one thread it is.
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
}

async function loadOn(
  backend: TfBackendName,
  artifacts: io.ModelArtifacts,
): Promise<BlazeFaceDetector | undefined> {
  if (!(await tf.setBackend(backend).catch(() => false))) return undefined;
  await tf.ready();
  return BlazeFaceDetector.load(tf, loadGraphModel, io.fromMemory(artifacts));
}

/** Median ms per detection of a 640x480 frame, after one warm-up run (shader compilation). */
async function timeDetector(detector: BlazeFaceDetector): Promise<number> {
  await detector.warmUp(640, 480);
  const frame = tf.randomUniform([480, 640, 3], 0, 255, 'int32') as tf.Tensor3D;
  const times: number[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await detector.detect(frame);
      times.push(performance.now() - t0);
    }
  } finally {
    frame.dispose();
  }
  return times.sort((a, b) => a - b)[1];
}

async function describeBackend(backend: TfBackendName, choice: BackendChoice): Promise<string> {
  if (backend === 'wasm') {
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    return `${simd ? 'SIMD' : 'no SIMD'}, ${threads ? `threads (${navigator.hardwareConcurrency} cores)` : 'one thread'}`;
  }
  return choice.probes.find((p) => p.backend === backend)?.description ?? '';
}

/**
 * Loads the detector on the fastest backend (or on `force`, when given and it works), and
 * warms it up. `progress` gets short status lines while that happens (it can take seconds).
 */
export async function startDetector(
  force: TfBackendName | undefined,
  progress: (line: string) => void,
): Promise<BrowserDetector> {
  configureTfjs();
  progress('loading the face detector');
  const artifacts = await io.http(DETECTOR_URL).load!();
  progress('probing WebGPU and WebGL');
  const probes = [await probeWebGpu(), probeWebGl()];

  let detector: BlazeFaceDetector | undefined;
  let choice: BackendChoice | undefined;
  if (force) {
    progress(`starting ${force} (chosen in settings)`);
    detector = await loadOn(force, artifacts).catch(() => undefined);
    if (detector) {
      const ms = await timeDetector(detector);
      choice = {
        backend: force,
        reason: `chosen in settings (${ms.toFixed(1)} ms)`,
        timings: { [force]: ms },
        probes,
      };
    }
  }
  if (!detector || !choice) {
    const { timed, notes } = candidates(probes);
    const forcedNote = force ? [`${force} was asked for but failed to start`] : [];
    const timings: Partial<Record<TfBackendName, number>> = {};
    for (const backend of timed) {
      progress(`timing the detector on ${backend}`);
      const d = await loadOn(backend, artifacts).catch(() => undefined);
      if (!d) {
        timings[backend] = Number.NaN;
        continue;
      }
      try {
        timings[backend] = await timeDetector(d);
      } catch {
        timings[backend] = Number.NaN;
      } finally {
        d.dispose();
      }
    }
    const backend = fastest(timings, BACKENDS);
    choice = { backend, reason: describeChoice(timings, [...forcedNote, ...notes]), timings, probes };
    progress(`starting the detector on ${backend}`);
    detector = await loadOn(backend, artifacts);
    if (!detector) throw new Error(`tfjs could not start its ${backend} backend`);
    await detector.warmUp();
  }
  const loaded = detector;
  const backendDetail = await describeBackend(choice.backend, choice);
  return {
    choice,
    backendDetail,
    async detect(source, options) {
      const pixels = tf.browser.fromPixels(source);
      try {
        return await loaded.detect(pixels, options);
      } finally {
        pixels.dispose();
      }
    },
    dispose: () => loaded.dispose(),
  };
}
