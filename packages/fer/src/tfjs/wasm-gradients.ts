// Convolution gradients for the tfjs wasm backend, expressed as forward convolutions.
//
// tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter and no depthwise backprop kernels,
// and its Conv2DBackpropInput is ~4x slower than its forward conv (STACK-NOTES). The
// forward conv runs on XNNPACK at ~11-14 GFLOP/s, so every gradient here is rewritten as
// one forward conv (plus transposes/pads, which are cheap next to it):
//
//   filter gradient  dW[i,j,c,f] = Σ_{n,y,x} xpad[n, y·s+i, x·s+j, c] · dy[n,y,x,f]
//     = conv2d(xpad as [C,Hp,Wp,N], dy as [Ho,Wo,N,F], dilation s, 'valid') → [C,kh,kw,F]
//   input gradient   dx = conv2d(dyUp padded by (k-1-p), W flipped in space, in/out swapped)
//     where dyUp is dy with s-1 zeros inserted between rows/cols (stride s > 1).
//
// The depthwise versions fold the batch into channels so each is still one call.
import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';

type Pad = 'same' | 'valid' | number | backend_util.ExplicitPadding;
type Pair = [number, number];
type Shape4 = [number, number, number, number];

interface ConvAttrs {
  strides: number | Pair;
  pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: number | Pair;
}

const pair = (v: number | Pair | undefined): Pair =>
  v === undefined ? [1, 1] : typeof v === 'number' ? [v, v] : v;

function assertNoDilation(dilations: number | Pair | undefined, kernel: string): void {
  const [dh, dw] = pair(dilations);
  if (dh !== 1 || dw !== 1) throw new Error(`${kernel}: dilated convolutions are not supported in training`);
}

/** Inserts (s-1) zeros between consecutive rows and columns of dy: [N,H,W,C] → [N,(H-1)s+1,(W-1)s+1,C]. */
function upsampleWithZeros(dy: tf.Tensor4D, [sh, sw]: Pair): tf.Tensor4D {
  if (sh === 1 && sw === 1) return dy;
  const [n, h, w, c] = dy.shape;
  const spread = tf.pad(tf.reshape(dy, [n, h, 1, w, 1, c]), [
    [0, 0],
    [0, 0],
    [0, sh - 1],
    [0, 0],
    [0, sw - 1],
    [0, 0],
  ]);
  const dense = tf.reshape(spread, [n, h * sh, w * sw, c]) as tf.Tensor4D;
  return tf.slice(dense, [0, 0, 0, 0], [n, (h - 1) * sh + 1, (w - 1) * sw + 1, c]);
}

/**
 * The filter turned 180° in space, as a product with an anti-diagonal permutation matrix:
 * [kh·kw, kh·kw] × filter[kh·kw, rest]. Exact (each output is 1·v plus zeros) and ~4× faster on
 * wasm than tf.reverse over two axes, which was 4–7% of a vgg16 or resnetv2 training step.
 */
export function flipSpatially(filter: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw, a, b] = filter.shape;
    const taps = kh * kw;
    const flip = tf.tensor2d(
      Array.from({ length: taps * taps }, (_, i) => (Math.floor(i / taps) + (i % taps) === taps - 1 ? 1 : 0)),
      [taps, taps],
    );
    return tf.reshape(tf.matMul(flip, tf.reshape(filter, [taps, a * b])), filter.shape) as tf.Tensor4D;
  });
}

/** Pads (or crops, for negative amounts) the two spatial axes of an NHWC tensor. */
function padOrCrop(x: tf.Tensor4D, top: number, bottom: number, left: number, right: number): tf.Tensor4D {
  const grow = [top, bottom, left, right].map((v) => Math.max(v, 0));
  const padded = grow.some((v) => v > 0)
    ? tf.pad(x, [
        [0, 0],
        [grow[0], grow[1]],
        [grow[2], grow[3]],
        [0, 0],
      ])
    : x;
  const [t, b, l, r] = [top, bottom, left, right].map((v) => Math.max(-v, 0));
  if (t + b + l + r === 0) return padded; // a slice would only copy
  const [n, h, w, c] = padded.shape;
  return tf.slice(padded, [0, t, l, 0], [n, h - t - b, w - l - r, c]);
}

function convInfo(xShape: Shape4, filterShape: Shape4, attrs: ConvAttrs, depthwise: boolean) {
  return backend_util.computeConv2DInfo(
    xShape,
    filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    depthwise,
  );
}

/** dx for conv2d / depthwiseConv2d with any stride, as one stride-1 forward conv. */
export function convInputGrad(
  dy: tf.Tensor4D,
  filter: tf.Tensor4D,
  xShape: Shape4,
  attrs: ConvAttrs,
  depthwise: boolean,
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = convInfo(xShape, filter.shape, attrs, depthwise);
    const [kh, kw] = filter.shape;
    const [, h, w] = xShape;
    const flippedFilter = () => flipSpatially(filter);
    const p = info.padInfo;
    if (
      info.strideHeight === 1 &&
      info.strideWidth === 1 &&
      kh % 2 === 1 &&
      kw % 2 === 1 &&
      p.top === (kh - 1) / 2 &&
      p.left === (kw - 1) / 2 &&
      p.bottom === p.top &&
      p.right === p.left
    ) {
      // Stride 1 with centred padding: the transposed conv is a 'same' conv, no pad/slice.
      return depthwise
        ? tf.depthwiseConv2d(dy, flippedFilter(), 1, 'same')
        : tf.conv2d(dy, tf.transpose(flippedFilter(), [0, 1, 3, 2]), 1, 'same');
    }
    const up = upsampleWithZeros(dy, [info.strideHeight, info.strideWidth]);
    const top = kh - 1 - info.padInfo.top;
    const left = kw - 1 - info.padInfo.left;
    const bottom = h + kh - 1 - top - up.shape[1];
    const right = w + kw - 1 - left - up.shape[2];
    const dyPad = padOrCrop(up, top, bottom, left, right);
    const flipped = flippedFilter();
    if (depthwise) {
      // Depthwise filter [kh,kw,C,1]: each channel convolves with its own flipped taps.
      return tf.depthwiseConv2d(dyPad, flipped, 1, 'valid');
    }
    return tf.conv2d(dyPad, tf.transpose(flipped, [0, 1, 3, 2]), 1, 'valid');
  });
}

/**
 * x padded as the forward conv padded it, then cropped to the rows and columns some output
 * reads: (Ho-1)·s+kh by (Wo-1)·s+kw, so a 'valid' stride-1 conv with dilation s gives dW.
 */
function inputSeenByFilter(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  [kh, kw]: Shape4,
  info: backend_util.Conv2DInfo,
): tf.Tensor4D {
  const [, ho, wo] = dy.shape;
  const needH = (ho - 1) * info.strideHeight + kh;
  const needW = (wo - 1) * info.strideWidth + kw;
  const { top, left } = info.padInfo;
  return padOrCrop(x, top, needH - x.shape[1] - top, left, needW - x.shape[2] - left);
}

/** dW for conv2d with any stride, as one forward conv with the batch axis as channels. */
export function convFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: Shape4,
  attrs: ConvAttrs,
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = convInfo(x.shape, filterShape, attrs, false);
    const [sh, sw] = [info.strideHeight, info.strideWidth];
    const xPad = inputSeenByFilter(x, dy, filterShape, info);
    const xt = tf.transpose(xPad, [3, 1, 2, 0]); // [C, Hp, Wp, N]
    const dyt = tf.transpose(dy, [1, 2, 0, 3]); // [Ho, Wo, N, F]
    const g = tf.conv2d(xt, dyt, 1, 'valid', 'NHWC', [sh, sw]); // [C, kh, kw, F]
    return tf.transpose(g, [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

/** dW for depthwiseConv2d (multiplier 1) with any stride: batch folded into channels. */
export function depthwiseFilterGrad(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: Shape4,
  attrs: ConvAttrs,
): tf.Tensor4D {
  return tf.tidy(() => {
    const [kh, kw, c, mult] = filterShape;
    if (mult !== 1)
      throw new Error('DepthwiseConv2dNativeBackpropFilter: only channel multiplier 1 is supported');
    const info = convInfo(x.shape, filterShape, attrs, true);
    const [sh, sw] = [info.strideHeight, info.strideWidth];
    const [n] = x.shape;
    const [, ho, wo] = dy.shape;
    const xPad = inputSeenByFilter(x, dy, filterShape, info);
    const [, hp, wp] = xPad.shape;
    const xt = tf.reshape(tf.transpose(xPad, [1, 2, 0, 3]), [1, hp, wp, n * c]) as tf.Tensor4D;
    const dyt = tf.reshape(tf.transpose(dy, [1, 2, 0, 3]), [ho, wo, n * c, 1]) as tf.Tensor4D;
    const g = tf.depthwiseConv2d(xt, dyt, 1, 'valid', 'NHWC', [sh, sw]); // [1,kh,kw,N*C]
    return tf.reshape(tf.sum(tf.reshape(g, [kh, kw, n, c]), 2), [kh, kw, c, 1]) as tf.Tensor4D;
  });
}

/** What the gradient kernels receive: x, dy, filter, and the forward conv's attributes. */
type GradientInputs = Record<'x' | 'dy' | 'filter', tf.Tensor4D>;
type GradientAttrs = ConvAttrs & { filterShape: Shape4; inputShape: Shape4 };

const GRADIENT_KERNELS: Record<string, (i: GradientInputs, a: GradientAttrs) => tf.Tensor4D> = {
  Conv2DBackpropFilter: (i, a) => convFilterGrad(i.x, i.dy, a.filterShape, a),
  Conv2DBackpropInput: (i, a) => convInputGrad(i.dy, i.filter, a.inputShape, a, false),
  DepthwiseConv2dNativeBackpropFilter: (i, a) => depthwiseFilterGrad(i.x, i.dy, a.filterShape, a),
  DepthwiseConv2dNativeBackpropInput: (i, a) => convInputGrad(i.dy, i.filter, a.inputShape, a, true),
};

/**
 * Registers (or replaces) the wasm backend's convolution gradient kernels with the
 * forward-conv formulations above. Call after importing '@tensorflow/tfjs-backend-wasm'.
 */
export function registerWasmConvGradients(): void {
  for (const [name, gradient] of Object.entries(GRADIENT_KERNELS)) {
    const kernelFunc: tf.KernelFunc = ({ inputs, attrs }) => {
      const a = attrs as unknown as GradientAttrs;
      assertNoDilation(a.dilations, name);
      // The engine hands kernels Tensors; the result is a Tensor built from ops, which it accepts.
      return gradient(inputs as unknown as GradientInputs, a);
    };
    if (tf.getKernel(name, 'wasm')) tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ kernelName: name, backendName: 'wasm', kernelFunc });
  }
}
