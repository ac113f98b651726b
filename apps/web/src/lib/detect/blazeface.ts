// Face detection: MediaPipe's BlazeFace (the full-range "back camera" model, 256x256 input) as
// a tfjs graph model, run on whichever tfjs backend was chosen (see backend.ts). The weights
// ship in the @vladmandic/human npm package (models/blazeface.json + .bin, MIT) and the app
// serves them itself (routes/detector), so nothing is fetched from the internet.
//
// The model predicts, for each of 896 fixed anchors (a 16x16 grid with 2 anchors per cell and
// an 8x8 grid with 6), a face score (logit) and 16 regressors: the box centre offset from the
// anchor and its size, then 6 keypoints (eyes, nose, mouth, ears), all in input pixels.
// Decoding and non-maximum suppression are plain TypeScript on the 896 rows.
import type * as TfCore from '@tensorflow/tfjs-core';
import type { io } from '@tensorflow/tfjs-core';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { iou, type Box } from '../geometry.ts';

export type Tf = typeof TfCore;

export interface Detection {
  /** Frame pixels. */
  box: Box;
  /** Face probability, 0..1. */
  score: number;
  /** Right eye, left eye, nose, mouth, right ear, left ear, in frame pixels. */
  keypoints: [number, number][];
}

export interface DetectOptions {
  minScore: number;
  /** Boxes overlapping a better one by more than this are merged into it. */
  iouThreshold: number;
  maxFaces: number;
}

export const DEFAULT_DETECT: DetectOptions = { minScore: 0.6, iouThreshold: 0.3, maxFaces: 16 };

const REGRESSORS = 16;

/** Anchor centres in input pixels, in the model's output order: [x0, y0, x1, y1, …]. */
export function blazefaceAnchors(inputSize: number): Float32Array {
  const layers = [
    { stride: inputSize / 16, perCell: 2 },
    { stride: inputSize / 8, perCell: 6 },
  ];
  const out: number[] = [];
  for (const { stride, perCell } of layers) {
    const cells = Math.ceil(inputSize / stride);
    for (let gy = 0; gy < cells; gy++) {
      for (let gx = 0; gx < cells; gx++) {
        for (let n = 0; n < perCell; n++) out.push(stride * (gx + 0.5), stride * (gy + 0.5));
      }
    }
  }
  return new Float32Array(out);
}

/** How input pixels map back to frame pixels (the frame was scaled, then padded right/bottom). */
export interface InputToFrame {
  sx: number;
  sy: number;
}

/**
 * Detections from the model's raw outputs: `logits` (one per anchor) and `regressors`
 * (16 per anchor), above minScore, merged by weighted non-maximum suppression, best first.
 */
export function decodeDetections(
  logits: ArrayLike<number>,
  regressors: ArrayLike<number>,
  anchors: Float32Array,
  toFrame: InputToFrame,
  options: DetectOptions = DEFAULT_DETECT,
): Detection[] {
  const n = anchors.length / 2;
  if (logits.length !== n || regressors.length !== n * REGRESSORS) {
    throw new Error(
      `BlazeFace outputs don't match ${n} anchors: ${logits.length} scores, ${regressors.length} regressors`,
    );
  }
  const candidates: Detection[] = [];
  for (let i = 0; i < n; i++) {
    const score = 1 / (1 + Math.exp(-logits[i]));
    if (score < options.minScore) continue;
    const ax = anchors[2 * i];
    const ay = anchors[2 * i + 1];
    const r = i * REGRESSORS;
    const cx = ax + regressors[r];
    const cy = ay + regressors[r + 1];
    const w = regressors[r + 2];
    const h = regressors[r + 3];
    if (!(w > 0 && h > 0)) continue;
    const keypoints: [number, number][] = [];
    for (let k = 0; k < 6; k++) {
      keypoints.push([
        (ax + regressors[r + 4 + 2 * k]) * toFrame.sx,
        (ay + regressors[r + 5 + 2 * k]) * toFrame.sy,
      ]);
    }
    candidates.push({
      box: {
        x: (cx - w / 2) * toFrame.sx,
        y: (cy - h / 2) * toFrame.sy,
        w: w * toFrame.sx,
        h: h * toFrame.sy,
      },
      score,
      keypoints,
    });
  }
  return weightedNms(candidates, options.iouThreshold, options.maxFaces);
}

/**
 * Non-maximum suppression that averages each cluster (the best box and those overlapping it
 * by more than iouThreshold) weighted by score, as MediaPipe does: steadier boxes from frame
 * to frame than keeping the single best one.
 */
export function weightedNms(detections: Detection[], iouThreshold: number, maxFaces: number): Detection[] {
  let remaining = [...detections].sort((a, b) => b.score - a.score);
  const out: Detection[] = [];
  while (remaining.length > 0 && out.length < maxFaces) {
    const best = remaining[0];
    const cluster = remaining.filter((d) => d === best || iou(best.box, d.box) > iouThreshold);
    remaining = remaining.filter((d) => !cluster.includes(d));
    const total = cluster.reduce((s, d) => s + d.score, 0);
    const avg = (f: (d: Detection) => number) => cluster.reduce((s, d) => s + f(d) * d.score, 0) / total;
    out.push({
      box: { x: avg((d) => d.box.x), y: avg((d) => d.box.y), w: avg((d) => d.box.w), h: avg((d) => d.box.h) },
      score: best.score,
      keypoints: best.keypoints.map((_, k) => [avg((d) => d.keypoints[k][0]), avg((d) => d.keypoints[k][1])]),
    });
  }
  return out;
}

export class BlazeFaceDetector {
  private readonly anchors: Float32Array;

  private constructor(
    private readonly tf: Tf,
    private readonly model: GraphModel,
    readonly inputSize: number,
  ) {
    this.anchors = blazefaceAnchors(inputSize);
  }

  /** Loads the graph model from a URL (browser) or an IOHandler (tests, Node). */
  static async load(
    tf: Tf,
    loadGraphModel: (source: string | io.IOHandler) => Promise<GraphModel>,
    source: string | io.IOHandler,
  ): Promise<BlazeFaceDetector> {
    const model = await loadGraphModel(source);
    const shape = model.inputs[0]?.shape;
    const size = shape && shape[1] && shape[1] > 0 ? shape[1] : 256;
    return new BlazeFaceDetector(tf, model, size);
  }

  /** Faces in an RGB image tensor [height, width, 3] (0..255). The caller keeps and disposes it. */
  async detect(pixels: TfCore.Tensor3D, options: DetectOptions = DEFAULT_DETECT): Promise<Detection[]> {
    const { tf } = this;
    const [height, width] = pixels.shape;
    const size = this.inputSize;
    const scale = size / Math.max(width, height);
    const rw = Math.max(1, Math.round(width * scale));
    const rh = Math.max(1, Math.round(height * scale));
    const outputs = tf.tidy(() => {
      // Keep the aspect ratio: scale the longer side to the input size, pad the rest with
      // mid-grey (0 after normalisation to [-1, 1]).
      const resized = tf.image.resizeBilinear(pixels, [rh, rw]);
      const normalized = tf.sub(tf.div(resized, 127.5), 1);
      const padded = tf.pad(normalized, [
        [0, size - rh],
        [0, size - rw],
        [0, 0],
      ]);
      return this.model.execute(tf.expandDims(padded, 0)) as TfCore.Tensor[];
    });
    try {
      // Four outputs: scores and regressors for the 512 stride-16 anchors and the 384 stride-32
      // ones. Sorting by size gives [scores 384, scores 512, regressors 384, regressors 512].
      const [s384, s512, r384, r512] = await Promise.all(
        [...outputs].sort((a, b) => a.size - b.size).map((t) => t.data() as Promise<Float32Array>),
      );
      const logits = concat(s512, s384);
      const regressors = concat(r512, r384);
      return decodeDetections(logits, regressors, this.anchors, { sx: width / rw, sy: height / rh }, options);
    } finally {
      tf.dispose(outputs);
    }
  }

  /** One inference on a blank frame: compiles shaders and allocates, so the first real frame is fast. */
  async warmUp(width = 640, height = 480): Promise<void> {
    const blank = this.tf.zeros([height, width, 3], 'int32') as TfCore.Tensor3D;
    try {
      await this.detect(blank);
    } finally {
      blank.dispose();
    }
  }

  dispose(): void {
    this.model.dispose();
  }
}

function concat(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
