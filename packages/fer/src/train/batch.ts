// Turning uint8 face images into model input on the CPU.
import { mulberry32 } from '@affect/gpu';
import { IMAGE_BYTES, IMAGE_SIDE } from '../data/format.ts';

/** uint8 [n,48,48] → float32 in [0,1], optionally mirrored left-right. */
export function toUnitFloats(pixels: Uint8Array, flip = false): Float32Array {
  const out = new Float32Array(pixels.length);
  const scale = 1 / 255;
  if (!flip) {
    for (let i = 0; i < pixels.length; i++) out[i] = pixels[i] * scale;
    return out;
  }
  for (let base = 0; base < pixels.length; base += IMAGE_BYTES) {
    for (let r = 0; r < IMAGE_SIDE; r++) {
      const row = base + r * IMAGE_SIDE;
      for (let c = 0; c < IMAGE_SIDE; c++) out[row + c] = pixels[row + IMAGE_SIDE - 1 - c] * scale;
    }
  }
  return out;
}

/** Copies the images at `indices` of a split's pixel array into one contiguous batch. */
export function gatherImages(pixels: Uint8Array, indices: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(indices.length * IMAGE_BYTES);
  for (let i = 0; i < indices.length; i++) {
    const start = indices[i] * IMAGE_BYTES;
    out.set(pixels.subarray(start, start + IMAGE_BYTES), i * IMAGE_BYTES);
  }
  return out;
}

export function gatherLabels(labels: Uint8Array, indices: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) out[i] = labels[indices[i]];
  return out;
}

/** A copy of `indices` in a seeded random order (Fisher-Yates with mulberry32). */
export function shuffled(indices: number[], seed: number): number[] {
  const rand = mulberry32(seed);
  const a = indices.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}
