// The four classifier architectures. Input: 48x48x1 gray in [0,1]; output: softmax over
// the classes. Each is sized so that it trains on a 2-core CPU in about an hour per
// ~10 epochs; the model cards (models/<arch>/README.md) explain each choice.
import {
  layers as tfl,
  model as functionalModel,
  input as modelInput,
  type SymbolicTensor,
  type LayersModel,
} from '@tensorflow/tfjs-layers';
import { tensor4d } from '@tensorflow/tfjs-core';

export const ARCHS = ['cnn', 'vgg16', 'resnetv2', 'efficientnet'] as const;
export type Arch = (typeof ARCHS)[number];

export interface ArchOptions {
  numClasses: number;
  seed?: number;
  /**
   * Channel width multiplier for the architectures that are width-scaled (cnn: its own
   * 32-64-128-256 × 1 by default; vgg16: VGG16's widths × 0.25; efficientnet: B0's × 0.5).
   * Undefined keeps the default.
   */
  width?: number;
  /**
   * What the network's first layer sees (VIEWS); undefined or 'pixels': the gray image itself.
   */
  view?: View;
}

/**
 * Input views. 'gradients' puts a fixed, non-trainable 3x3 Sobel layer and a ReLU in front
 * of the network: four maps, the positive and negative parts of the horizontal and vertical
 * intensity gradients (GRADIENT_VIEW_KERNELS), so the network sees edges and not brightness.
 * A model that sees another view errs on other faces, which an ensemble can use.
 */
export const VIEWS = ['pixels', 'gradients'] as const;
export type View = (typeof VIEWS)[number];

/** The 'gradients' view's four 3x3 kernels, row-major, in channel order: +x, −x, +y, −y. */
export const GRADIENT_VIEW_KERNELS: readonly (readonly number[])[] = (() => {
  const gx = [-1, 0, 1, -2, 0, 2, -1, 0, 1];
  const gy = [-1, -2, -1, 0, 0, 0, 1, 2, 1];
  const negated = (k: number[]) => k.map((v) => (v === 0 ? 0 : -v)); // no -0: averages would turn it into +0
  return [gx, negated(gx), gy, negated(gy)];
})();

/** The architectures `width` applies to, and their default width. */
export const DEFAULT_WIDTH: Partial<Record<Arch, number>> = { cnn: 1, vgg16: 0.25, efficientnet: 0.5 };

export function isArch(name: string): name is Arch {
  return (ARCHS as readonly string[]).includes(name);
}

export const INPUT_SIZE = 48;

/** Deterministic initializers: every layer gets its own seed derived from the run's seed. */
class SeedSequence {
  private next: number;
  constructor(seed: number) {
    this.next = seed * 1000 + 1;
  }
  kernel() {
    return { className: 'HeNormal', config: { seed: this.next++ } };
  }
  glorot() {
    return { className: 'GlorotUniform', config: { seed: this.next++ } };
  }
}

type Init = { className: string; config: { seed: number } };

// tfjs-layers accepts serialized initializer configs; the cast keeps the call sites short.
const init = (i: Init) => i as unknown as 'heNormal';

/**
 * A convolution without bias (a BN or the next layer makes up for it) whose He-normal
 * kernel takes the next seed. 3x3 convs pad 'same'; 1x1 convs keep tfjs's default 'valid',
 * the same thing for a 1x1 kernel, as saved models record it.
 */
function conv(
  x: SymbolicTensor,
  seeds: SeedSequence,
  name: string,
  filters: number,
  kernelSize: number,
  strides = 1,
): SymbolicTensor {
  return tfl
    .conv2d({
      filters,
      kernelSize,
      strides,
      ...(kernelSize > 1 ? { padding: 'same' as const } : {}),
      useBias: false,
      kernelInitializer: init(seeds.kernel()),
      name,
    })
    .apply(x) as SymbolicTensor;
}

/** Batch norm then `activation`, named `<prefix>_bn` and `<prefix>_<activation>`. */
function bnActivation(x: SymbolicTensor, activation: 'relu' | 'swish', prefix: string): SymbolicTensor {
  const y = tfl.batchNormalization({ name: `${prefix}_bn` }).apply(x) as SymbolicTensor;
  return tfl.activation({ activation, name: `${prefix}_${activation}` }).apply(y) as SymbolicTensor;
}

/** The network's input as its first learned layer sees it (ArchOptions.view). */
function inputView(input: SymbolicTensor, o: ArchOptions): SymbolicTensor {
  const view = o.view ?? 'pixels';
  if (!VIEWS.includes(view)) throw new Error(`unknown input view '${view}': one of ${VIEWS.join(', ')}`);
  if (view === 'pixels') return input;
  const kernels = GRADIENT_VIEW_KERNELS.length;
  const sobel = tfl
    .conv2d({ filters: kernels, kernelSize: 3, padding: 'same', useBias: false, trainable: false, name: 'view_sobel' })
    .apply(input) as SymbolicTensor;
  return tfl.activation({ activation: 'relu', name: 'view_relu' }).apply(sobel) as SymbolicTensor;
}

/** Loads the fixed Sobel kernels into a built model's 'view_sobel' layer. */
function setGradientView(model: LayersModel): void {
  const k = GRADIENT_VIEW_KERNELS.length;
  const values = new Float32Array(9 * k);
  GRADIENT_VIEW_KERNELS.forEach((kernel, c) => kernel.forEach((v, t) => (values[t * k + c] = v)));
  const weights = tensor4d(values, [3, 3, 1, k]); // [row, col, in, out]
  model.getLayer('view_sobel').setWeights([weights]);
  weights.dispose();
}

function convBnRelu(x: SymbolicTensor, filters: number, seeds: SeedSequence, name: string) {
  return bnActivation(conv(x, seeds, `${name}_conv`, filters, 3), 'relu', name);
}

/** The classifier output every architecture ends with: dense + softmax, named 'probs'. */
function softmaxLayer(x: SymbolicTensor, o: ArchOptions, seeds: SeedSequence): SymbolicTensor {
  return tfl
    .dense({
      units: o.numClasses,
      activation: 'softmax',
      kernelInitializer: init(seeds.glorot()),
      name: 'probs',
    })
    .apply(x) as SymbolicTensor;
}

function head(x: SymbolicTensor, units: number[], dropout: number, o: ArchOptions, seeds: SeedSequence) {
  let y = x;
  units.forEach((u, i) => {
    y = tfl
      .dense({ units: u, useBias: false, kernelInitializer: init(seeds.kernel()), name: `fc${i + 1}` })
      .apply(y) as SymbolicTensor;
    y = bnActivation(y, 'relu', `fc${i + 1}`);
    y = tfl.dropout({ rate: dropout, name: `fc${i + 1}_drop` }).apply(y) as SymbolicTensor;
  });
  return softmaxLayer(y, o, seeds);
}

/**
 * Custom CNN: four conv stages (2-2-2-1 convs, 32→256 channels × widthScale), BN, dropout,
 * dense head (256 units at any width).
 */
export function buildCnn(o: ArchOptions, widthScale = DEFAULT_WIDTH.cnn!): LayersModel {
  const seeds = new SeedSequence(o.seed ?? 0);
  const input = modelInput({ shape: [INPUT_SIZE, INPUT_SIZE, 1], name: 'face' });
  let x = inputView(input, o);
  const stages: Array<[number, number, number]> = [
    [32, 2, 0.1],
    [64, 2, 0.15],
    [128, 2, 0.2],
    [256, 1, 0.25],
  ];
  stages.forEach(([width, convs, drop], s) => {
    const filters = Math.round(width * widthScale);
    for (let c = 0; c < convs; c++) x = convBnRelu(x, filters, seeds, `s${s + 1}_c${c + 1}`);
    x = tfl.maxPooling2d({ poolSize: 2, name: `s${s + 1}_pool` }).apply(x) as SymbolicTensor;
    x = tfl.dropout({ rate: drop, name: `s${s + 1}_drop` }).apply(x) as SymbolicTensor;
  });
  x = tfl.flatten({ name: 'flatten' }).apply(x) as SymbolicTensor; // 3x3x(256 × widthScale)
  return functionalModel({ inputs: input, outputs: head(x, [256], 0.5, o, seeds), name: 'cnn' });
}

/**
 * VGG16 layout: 13 3x3 convs in 5 blocks (2-2-3-3-3), each block closed by a 2x2 max
 * pool, then a two-layer dense head. Widths are VGG16's (64-128-256-512-512) scaled by
 * 1/4 so it trains on CPU, and BN follows each conv (VGG16-BN) because plain VGG does not
 * train from scratch reliably at this depth.
 */
export function buildVgg16(o: ArchOptions, widthScale = DEFAULT_WIDTH.vgg16!): LayersModel {
  const seeds = new SeedSequence(o.seed ?? 0);
  const input = modelInput({ shape: [INPUT_SIZE, INPUT_SIZE, 1], name: 'face' });
  let x = inputView(input, o);
  const blocks: Array<[number, number]> = [
    [64, 2],
    [128, 2],
    [256, 3],
    [512, 3],
    [512, 3],
  ];
  blocks.forEach(([width, convs], b) => {
    const filters = Math.round(width * widthScale);
    for (let c = 0; c < convs; c++) x = convBnRelu(x, filters, seeds, `block${b + 1}_conv${c + 1}`);
    x = tfl.maxPooling2d({ poolSize: 2, name: `block${b + 1}_pool` }).apply(x) as SymbolicTensor;
  });
  x = tfl.flatten({ name: 'flatten' }).apply(x) as SymbolicTensor; // 1x1x128
  return functionalModel({ inputs: input, outputs: head(x, [256, 256], 0.5, o, seeds), name: 'vgg16' });
}

/** Pre-activation residual unit (He et al. 2016, "Identity Mappings"): BN-ReLU-conv twice. */
function preactBlock(x: SymbolicTensor, filters: number, stride: number, seeds: SeedSequence, name: string) {
  const inChannels = x.shape[x.shape.length - 1] as number;
  const pre = bnActivation(x, 'relu', `${name}_pre`);
  // The shortcut is the identity unless the shape changes; then a 1x1 projection of the
  // pre-activated input, as in the paper.
  const shortcut =
    stride === 1 && inChannels === filters ? x : conv(pre, seeds, `${name}_proj`, filters, 1, stride);
  let y = conv(pre, seeds, `${name}_conv1`, filters, 3, stride);
  y = tfl.batchNormalization({ name: `${name}_bn2` }).apply(y) as SymbolicTensor;
  y = tfl.activation({ activation: 'relu', name: `${name}_relu2` }).apply(y) as SymbolicTensor;
  y = conv(y, seeds, `${name}_conv2`, filters, 3);
  return tfl.add({ name: `${name}_add` }).apply([shortcut, y]) as SymbolicTensor;
}

/** ResNet v2 (pre-activation), 18-layer layout [2,2,2,2] at widths 32-64-128-256. */
export function buildResnetV2(o: ArchOptions): LayersModel {
  const seeds = new SeedSequence(o.seed ?? 0);
  const input = modelInput({ shape: [INPUT_SIZE, INPUT_SIZE, 1], name: 'face' });
  let x = conv(inputView(input, o), seeds, 'stem_conv', 32, 3);
  x = tfl.maxPooling2d({ poolSize: 2, name: 'stem_pool' }).apply(x) as SymbolicTensor; // 24x24
  const stages: Array<[number, number]> = [
    [32, 1],
    [64, 2],
    [128, 2],
    [256, 2],
  ];
  stages.forEach(([filters, stride], s) => {
    x = preactBlock(x, filters, stride, seeds, `stage${s + 1}_unit1`);
    x = preactBlock(x, filters, 1, seeds, `stage${s + 1}_unit2`);
  });
  // v2 ends with a final BN-ReLU, since the last unit's output is not activated.
  x = bnActivation(x, 'relu', 'post');
  x = tfl.globalAveragePooling2d({ name: 'gap' }).apply(x) as SymbolicTensor;
  x = tfl.dropout({ rate: 0.3, name: 'gap_drop' }).apply(x) as SymbolicTensor;
  const out = softmaxLayer(x, o, seeds);
  return functionalModel({ inputs: input, outputs: out, name: 'resnetv2' });
}

interface MbConvSpec {
  expand: number;
  kernel: number;
  filters: number;
  stride: number;
  repeats: number;
}

/** EfficientNet-B0's stage table (Tan & Le 2019), first seven stages. */
const B0_STAGES: MbConvSpec[] = [
  { expand: 1, kernel: 3, filters: 16, stride: 1, repeats: 1 },
  { expand: 6, kernel: 3, filters: 24, stride: 2, repeats: 2 },
  { expand: 6, kernel: 5, filters: 40, stride: 2, repeats: 2 },
  { expand: 6, kernel: 3, filters: 80, stride: 2, repeats: 3 },
  { expand: 6, kernel: 5, filters: 112, stride: 1, repeats: 3 },
  { expand: 6, kernel: 5, filters: 192, stride: 2, repeats: 4 },
  { expand: 6, kernel: 3, filters: 320, stride: 1, repeats: 1 },
];

/** Compound scaling: channels × width (rounded to multiples of 8), repeats × depth. */
export function scaleStages(width: number, depth: number): MbConvSpec[] {
  const round8 = (c: number) => Math.max(8, Math.round((c * width) / 8) * 8);
  return B0_STAGES.map((s) => ({ ...s, filters: round8(s.filters), repeats: Math.ceil(s.repeats * depth) }));
}

function mbConv(x: SymbolicTensor, spec: MbConvSpec, stride: number, seeds: SeedSequence, name: string) {
  const inChannels = x.shape[x.shape.length - 1] as number;
  const expanded = inChannels * spec.expand;
  let y = x;
  if (spec.expand !== 1) {
    y = bnActivation(conv(y, seeds, `${name}_expand`, expanded, 1), 'swish', `${name}_expand`);
  }
  y = tfl
    .depthwiseConv2d({
      kernelSize: spec.kernel,
      strides: stride,
      padding: 'same',
      useBias: false,
      depthwiseInitializer: init(seeds.kernel()),
      name: `${name}_dw`,
    })
    .apply(y) as SymbolicTensor;
  y = bnActivation(y, 'swish', `${name}_dw`);
  // Squeeze-and-excitation with a reduction of 4 relative to the block's input width.
  const squeezed = Math.max(1, Math.floor(inChannels / 4));
  let se = tfl.globalAveragePooling2d({ name: `${name}_se_gap` }).apply(y) as SymbolicTensor;
  se = tfl.reshape({ targetShape: [1, 1, expanded], name: `${name}_se_reshape` }).apply(se) as SymbolicTensor;
  const seConv = (t: SymbolicTensor, filters: number, activation: 'swish' | 'sigmoid', kernel: Init, step: string) =>
    tfl
      .conv2d({ filters, kernelSize: 1, activation, kernelInitializer: init(kernel), name: `${name}_se_${step}` })
      .apply(t) as SymbolicTensor;
  se = seConv(se, squeezed, 'swish', seeds.kernel(), 'reduce');
  se = seConv(se, expanded, 'sigmoid', seeds.glorot(), 'expand');
  y = tfl.multiply({ name: `${name}_se_scale` }).apply([y, se]) as SymbolicTensor;
  y = conv(y, seeds, `${name}_project`, spec.filters, 1);
  y = tfl.batchNormalization({ name: `${name}_project_bn` }).apply(y) as SymbolicTensor;
  if (stride === 1 && inChannels === spec.filters) {
    y = tfl.add({ name: `${name}_add` }).apply([x, y]) as SymbolicTensor;
  }
  return y;
}

/**
 * EfficientNet for 48x48: B0's MBConv+SE stage table with compound scaling (width 0.5,
 * depth 0.5 by default), a stride-1 stem (a stride-2 stem would leave 1x1 maps after
 * the four stride-2 stages), swish activations and a dropout head.
 */
export function buildEfficientNet(o: ArchOptions, width = DEFAULT_WIDTH.efficientnet!, depth = 0.5): LayersModel {
  const seeds = new SeedSequence(o.seed ?? 0);
  const input = modelInput({ shape: [INPUT_SIZE, INPUT_SIZE, 1], name: 'face' });
  const stemFilters = Math.max(8, Math.round((32 * width) / 8) * 8);
  let x = bnActivation(conv(inputView(input, o), seeds, 'stem_conv', stemFilters, 3), 'swish', 'stem');
  scaleStages(width, depth).forEach((spec, s) => {
    for (let r = 0; r < spec.repeats; r++) {
      x = mbConv(x, spec, r === 0 ? spec.stride : 1, seeds, `stage${s + 1}_block${r + 1}`);
    }
  });
  const topFilters = Math.round(1280 * width);
  x = bnActivation(conv(x, seeds, 'top_conv', topFilters, 1), 'swish', 'top');
  x = tfl.globalAveragePooling2d({ name: 'gap' }).apply(x) as SymbolicTensor;
  x = tfl.dropout({ rate: 0.3, name: 'top_drop' }).apply(x) as SymbolicTensor;
  const out = softmaxLayer(x, o, seeds);
  return functionalModel({ inputs: input, outputs: out, name: 'efficientnet' });
}

export function buildModel(arch: Arch, o: ArchOptions): LayersModel {
  const model = buildArch(arch, o);
  if (o.view === 'gradients') setGradientView(model);
  return model;
}

function buildArch(arch: Arch, o: ArchOptions): LayersModel {
  switch (arch) {
    case 'cnn':
      return buildCnn(o, o.width);
    case 'vgg16':
      return buildVgg16(o, o.width);
    case 'resnetv2':
      return buildResnetV2(o);
    case 'efficientnet':
      return buildEfficientNet(o, o.width);
  }
}
