// Running saved models over fer4 images in this thread (evaluation, reports, scoring).
import * as tf from '../tfjs/tf.ts';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import { IMAGE_BYTES, IMAGE_SIDE } from '../data/format.ts';
import { toUnitFloats } from '../train/batch.ts';

const CHUNK = 128;

/** Starts a tfjs CPU backend for inference: wasm (fastest here) unless told otherwise. */
export async function useCpuBackend(name: 'wasm' | 'cpu' = 'wasm'): Promise<string> {
  if (tf.getBackend() === name) return name;
  if (!(await tf.setBackend(name))) throw new Error(`tfjs backend '${name}' failed to start`);
  await tf.ready();
  return name;
}

/** Softmax outputs [n, k] (row-major) for n 48x48 uint8 images. */
export async function predictProbs(
  model: LayersModel,
  pixels: Uint8Array,
  flip = false,
): Promise<Float32Array> {
  const n = pixels.length / IMAGE_BYTES;
  const input = toUnitFloats(pixels, flip);
  let out: Float32Array | undefined;
  for (let start = 0; start < n; start += CHUNK) {
    const count = Math.min(CHUNK, n - start);
    const probs = tf.tidy(
      () =>
        model.predict(
          tf.tensor4d(input.subarray(start * IMAGE_BYTES, (start + count) * IMAGE_BYTES), [
            count,
            IMAGE_SIDE,
            IMAGE_SIDE,
            1,
          ]),
        ) as tf.Tensor2D,
    );
    const data = (await probs.data()) as Float32Array;
    const k = probs.shape[1];
    probs.dispose();
    out ??= new Float32Array(n * k);
    out.set(data, start * k);
  }
  return out ?? new Float32Array(0);
}

/** Probabilities averaged over the image and its mirror image (flip test-time augmentation). */
export async function predictProbsTta(model: LayersModel, pixels: Uint8Array): Promise<Float32Array> {
  const a = await predictProbs(model, pixels, false);
  const b = await predictProbs(model, pixels, true);
  return a.map((v, i) => (v + b[i]) / 2);
}
