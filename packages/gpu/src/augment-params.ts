// Per-sample augmentation parameters, drawn from a seed so a training run can be replayed,
// and the inverse mapping that both augment.wgsl and augmentReference apply.
import { KernelInputError } from './kernel.ts';
import { MAX_BATCH, OUT_PIXELS, OUT_SIDE } from './preprocess.ts';

/**
 * A rectangle of the output image set to one grey value (random erasing, Zhong et al. 2020),
 * after every other step: whole output pixels x <= px < x + width, y <= py < y + height.
 */
export interface EraseRect {
  x: number;
  y: number;
  width: number;
  height: number;
  /** The grey the rectangle gets, in [0, 1]. */
  value: number;
}

/** One sample's augmentation. The identity is { rotation: 0, flip: false, zoom: 1, translateX: 0,
 * translateY: 0, brightness: 0, contrast: 1 } (no erase). */
export interface AugmentParams {
  /** Radians; positive turns the picture clockwise on screen (y points down). */
  rotation: number;
  /** Mirror left-right (applied first, before rotation). */
  flip: boolean;
  /** > 1 enlarges the face. */
  zoom: number;
  /** Shift in output pixels (+x right, +y down). */
  translateX: number;
  translateY: number;
  /** Added after contrast. */
  brightness: number;
  /** Scales the distance from mid-grey 0.5. */
  contrast: number;
  /** Random erasing; none where absent. */
  erase?: EraseRect;
}

export interface AugmentRanges {
  /** ± degrees. */
  rotationDeg: number;
  flipProbability: number;
  zoom: [number, number];
  /** ± fraction of the side (48 px). */
  translate: number;
  /** ± added to [0, 1] values. */
  brightness: number;
  contrast: [number, number];
  /** Chance that a sample gets an erased rectangle (0: never, and no random draws for it). */
  eraseProbability: number;
  /** The rectangle's area as a fraction of the image, drawn uniformly. */
  eraseArea: [number, number];
  /** Its height / width, drawn log-uniformly. */
  eraseAspect: [number, number];
}

export const DEFAULT_AUGMENT_RANGES: AugmentRanges = {
  rotationDeg: 15,
  flipProbability: 0.5,
  zoom: [0.9, 1.1],
  translate: 0.1,
  brightness: 0.1,
  contrast: [0.8, 1.2],
  eraseProbability: 0,
  eraseArea: [0.02, 0.2],
  eraseAspect: [0.3, 3.3],
};

export const IDENTITY_AUGMENT: AugmentParams = {
  rotation: 0,
  flip: false,
  zoom: 1,
  translateX: 0,
  translateY: 0,
  brightness: 0,
  contrast: 1,
};

/** mulberry32: a tiny, fast, well-mixed 32-bit PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * n samples' parameters, the same for the same (n, seed, ranges). With eraseProbability 0 no
 * erase is drawn and the other parameters are the same as before erasing existed.
 */
export function augmentParams(n: number, seed: number, ranges: Partial<AugmentRanges> = {}): AugmentParams[] {
  const r = { ...DEFAULT_AUGMENT_RANGES, ...ranges };
  const random = mulberry32(seed);
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * random();
  const maxShift = r.translate * OUT_SIDE;
  return Array.from({ length: n }, () => {
    const p: AugmentParams = {
      rotation: (uniform(-r.rotationDeg, r.rotationDeg) * Math.PI) / 180,
      flip: random() < r.flipProbability,
      zoom: uniform(r.zoom[0], r.zoom[1]),
      translateX: uniform(-maxShift, maxShift),
      translateY: uniform(-maxShift, maxShift),
      brightness: uniform(-r.brightness, r.brightness),
      contrast: uniform(r.contrast[0], r.contrast[1]),
    };
    if (r.eraseProbability > 0 && random() < r.eraseProbability) p.erase = drawErase(r, uniform);
    return p;
  });
}

/** One erase rectangle: area and aspect from the ranges, placed uniformly inside the image. */
function drawErase(r: AugmentRanges, uniform: (lo: number, hi: number) => number): EraseRect {
  const area = uniform(r.eraseArea[0], r.eraseArea[1]) * OUT_PIXELS;
  const aspect = Math.exp(uniform(Math.log(r.eraseAspect[0]), Math.log(r.eraseAspect[1])));
  const side = (v: number) => Math.min(OUT_SIDE, Math.max(1, Math.round(v)));
  const height = side(Math.sqrt(area * aspect));
  const width = side(Math.sqrt(area / aspect));
  return {
    x: Math.floor(uniform(0, OUT_SIDE - width + 1)),
    y: Math.floor(uniform(0, OUT_SIDE - height + 1)),
    width,
    height,
    value: uniform(0, 1),
  };
}

/** A sample's erase as output-pixel bounds [x0, y0, x1, y1) and its grey; an empty box where none. */
export function eraseBox(p: AugmentParams, i = 0): { box: [number, number, number, number]; value: number } {
  const e = p.erase;
  if (!e) return { box: [0, 0, 0, 0], value: 0 };
  const inside = (start: number, size: number) =>
    Number.isInteger(start) && Number.isInteger(size) && start >= 0 && size >= 1 && start + size <= OUT_SIDE;
  if (!inside(e.x, e.width) || !inside(e.y, e.height) || !(e.value >= 0 && e.value <= 1)) {
    throw new KernelInputError(
      'bad-params',
      `augment: sample ${i} erases outside the 48x48 image, by a non-integer rectangle or with a grey outside [0, 1]`,
    );
  }
  return { box: [e.x, e.y, e.x + e.width, e.y + e.height], value: e.value };
}

/** Output pixel (x, y) samples the input at (a x + b y + tx, c x + d y + ty), pixel centres at
 * integers; the value v becomes clamp(v * gain + offset, 0, 1). */
export interface InverseMapping {
  a: number;
  b: number;
  c: number;
  d: number;
  tx: number;
  ty: number;
  gain: number;
  offset: number;
}

/**
 * Forward: out = C + T + zoom * R(rotation) * F * (in - C), C the image centre, F the flip.
 * The kernel needs the inverse, in = C + F * R(-rotation) * (out - C - T) / zoom.
 */
export function inverseMapping(p: AugmentParams, i = 0): InverseMapping {
  const values = [p.rotation, p.zoom, p.translateX, p.translateY, p.brightness, p.contrast];
  if (!values.every(Number.isFinite) || p.zoom <= 0) {
    throw new KernelInputError('bad-params', `augment: sample ${i} has non-finite parameters or zoom <= 0`);
  }
  const centre = (OUT_SIDE - 1) / 2;
  const cos = Math.cos(p.rotation) / p.zoom;
  const sin = Math.sin(p.rotation) / p.zoom;
  const f = p.flip ? -1 : 1;
  // F * R(-θ) / zoom = [[f cos, f sin], [-sin, cos]] / zoom
  const a = f * cos;
  const b = f * sin;
  const c = -sin;
  const d = cos;
  const ox = centre + p.translateX;
  const oy = centre + p.translateY;
  return {
    a,
    b,
    c,
    d,
    tx: centre - (a * ox + b * oy),
    ty: centre - (c * ox + d * oy),
    // (v - 0.5) * contrast + 0.5 + brightness, written so that the identity is exact.
    gain: p.contrast,
    offset: 0.5 * (1 - p.contrast) + p.brightness,
  };
}

/** Checks the batch size against the input's; shared with the reference. */
export function checkAugmentBatch(inputFloats: number, params: readonly AugmentParams[]): number {
  const n = params.length;
  if (n === 0)
    throw new KernelInputError('empty-batch', 'augment: no parameters; pass one AugmentParams per image');
  if (n > MAX_BATCH) {
    throw new KernelInputError(
      'batch-too-large',
      `augment: ${n} images, over MAX_BATCH (${MAX_BATCH}); split the batch`,
    );
  }
  if (inputFloats < n * OUT_PIXELS) {
    throw new KernelInputError(
      'input-length',
      `augment: ${n} parameter sets need ${n * OUT_PIXELS} input floats (${n} x 48 x 48), got ${inputFloats}`,
    );
  }
  return n;
}
