// A training worker: one model replica on its own backend (single-threaded wasm on CPUs,
// WebGPU where there is a real GPU). The
// coordinator sends each worker a slice of every batch; workers return gradients, the
// coordinator averages them and every replica applies the same update, so the replicas
// stay identical (up to batch-norm running statistics, averaged once per epoch).
import { parentPort } from 'node:worker_threads';
import * as tf from '../tfjs/tf.ts';
import type { LayersModel } from '@tensorflow/tfjs-layers';
import {
  augment,
  augmentParams,
  augmentReference,
  createGpu,
  createTfWebgpuBackend,
  mulberry32,
  tensorFromGpuBuffer,
  type GpuContext,
  type Tf,
} from '@affect/gpu';
import { buildModel } from '../models/architectures.ts';
import { saveModel } from '../models/io.ts';
import { registerWasmConvGradients } from '../tfjs/wasm-gradients.ts';
import { registerFastBatchNormGradient } from '../tfjs/batchnorm-gradient.ts';
import { registerWasmFastReductions } from '../tfjs/wasm-fast-kernels.ts';
import { toUnitFloats } from './batch.ts';
import type {
  BatchAugment,
  FromWorker,
  GradRequest,
  GradResult,
  NamedWeights,
  ToWorker,
  WorkerInit,
} from './messages.ts';
import { IMAGE_SIDE } from '../data/format.ts';

const PREDICT_CHUNK = 256;

/** One augmentation parameter set per image of a batch, erasing included, as the request asks. */
export function batchAugmentParams(n: number, augment: BatchAugment) {
  return augmentParams(n, augment.seed, { eraseProbability: augment.eraseProbability });
}

export class Replica {
  private readonly vars: tf.Variable[];
  private readonly optimizer: tf.AdamOptimizer;
  private readonly classWeightCache = new Map<string, tf.Tensor1D>();

  constructor(
    readonly model: LayersModel,
    private readonly init: WorkerInit,
    /** Set on WebGPU: augmentation then runs as the WGSL kernel on this device. */
    private readonly gpu?: GpuContext,
  ) {
    this.model.layers.forEach((layer, i) => {
      if (i < init.freeze) layer.trainable = false;
    });
    this.vars = this.model.trainableWeights.map((w) => w.read() as tf.Variable);
    this.optimizer = tf.train.adam(1e-3, 0.9, 0.999, 1e-7);
  }

  get trainableSizes(): number[] {
    return this.vars.map((v) => v.size);
  }

  async restoreOptimizer(state: Float32Array[]): Promise<void> {
    // Adam's slots are created lazily: one zero update creates them with the right names.
    await this.createOptimizerSlots();
    const current = await this.optimizer.getWeights();
    if (current.length !== state.length) {
      throw new Error(`optimizer state has ${state.length} tensors, this model needs ${current.length}`);
    }
    await this.optimizer.setWeights(
      current.map((w, i) => ({ name: w.name, tensor: tf.tensor(state[i], w.tensor.shape) })),
    );
  }

  private async createOptimizerSlots(): Promise<void> {
    this.setLr(0);
    const zeros = Object.fromEntries(this.vars.map((v) => [v.name, tf.zerosLike(v)]));
    this.optimizer.applyGradients(zeros);
    tf.dispose(Object.values(zeros));
    // The zero step advanced Adam's step counter; getWeights/setWeights restores it.
  }

  async optimizerState(): Promise<Float32Array[]> {
    const weights = await this.optimizer.getWeights();
    return Promise.all(weights.map(async (w) => (await w.tensor.data()) as Float32Array));
  }

  private setLr(lr: number): void {
    (this.optimizer as unknown as { learningRate: number }).learningRate = lr;
  }

  private classWeights(weights: number[]): tf.Tensor1D {
    const key = weights.join(',');
    let t = this.classWeightCache.get(key);
    if (!t) {
      t = tf.keep(tf.tensor1d(weights));
      this.classWeightCache.set(key, t);
    }
    return t;
  }

  /** The batch as a [n,48,48,1] tensor in [0,1], augmented on the GPU or the CPU. */
  private async inputBatch(req: GradRequest): Promise<{ x: tf.Tensor4D; release: () => void }> {
    const n = req.labels.length;
    const shape: [number, number, number, number] = [n, IMAGE_SIDE, IMAGE_SIDE, 1];
    const input = toUnitFloats(req.pixels);
    if (!req.augment) {
      const x = tf.tensor4d(input, shape);
      return { x, release: () => x.dispose() };
    }
    const params = batchAugmentParams(n, req.augment);
    if (this.gpu) {
      const buffer = await augment(this.gpu, input, params);
      const x = tensorFromGpuBuffer(tf as unknown as Tf, buffer, shape) as tf.Tensor4D;
      return {
        x,
        release: () => {
          x.dispose();
          buffer.destroy();
        },
      };
    }
    const x = tf.tensor4d(augmentReference(input, params), shape);
    return { x, release: () => x.dispose() };
  }

  async grad(req: GradRequest): Promise<GradResult> {
    const n = req.labels.length;
    const { x, release } = await this.inputBatch(req);
    const k = this.init.numClasses;
    const eps = this.init.labelSmoothing;
    const classWeights = this.classWeights(req.classWeights);
    let predicted: tf.Tensor | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const labels = tf.tensor1d(req.labels, 'int32');
      const probs = this.model.apply(x, { training: true }) as tf.Tensor2D;
      predicted = tf.keep(tf.argMax(probs, 1));
      const target = tf.add(tf.mul(tf.oneHot(labels, k), 1 - eps), eps / k);
      const perSample = tf.neg(tf.sum(tf.mul(target, tf.log(tf.clipByValue(probs, 1e-7, 1))), 1));
      return tf.sum(tf.mul(perSample, tf.gather(classWeights, labels))) as tf.Scalar;
    }, this.vars);
    const flat = tf.tidy(() => tf.concat(this.vars.map((v) => tf.reshape(grads[v.name], [-1]))));
    const [gradData, lossData, predData] = await Promise.all([flat.data(), value.data(), predicted!.data()]);
    tf.dispose([flat, value, predicted!, ...Object.values(grads)]);
    release();
    let correct = 0;
    let weightSum = 0;
    for (let i = 0; i < n; i++) {
      if (predData[i] === req.labels[i]) correct++;
      weightSum += req.classWeights[req.labels[i]];
    }
    return { weightedLoss: lossData[0], weightSum, correct, n, grads: gradData as Float32Array };
  }

  apply(grads: Float32Array, lr: number): void {
    this.setLr(lr);
    let offset = 0;
    const named: Array<{ name: string; tensor: tf.Tensor }> = this.vars.map((v) => {
      const tensor = tf.tensor(grads.subarray(offset, offset + v.size), v.shape);
      offset += v.size;
      return { name: v.name, tensor };
    });
    this.optimizer.applyGradients(named);
    tf.dispose(named.map((g) => g.tensor));
    // Decoupled weight decay (AdamW) on kernels only, not on biases or BN parameters.
    const decay = 1 - lr * this.init.weightDecay;
    if (decay !== 1) {
      tf.tidy(() => {
        for (const v of this.vars) if (v.shape.length > 1) v.assign(tf.mul(v, decay));
      });
    }
  }

  async predict(pixels: Uint8Array, flip: boolean): Promise<Float32Array> {
    const input = toUnitFloats(pixels, flip);
    const n = input.length / (IMAGE_SIDE * IMAGE_SIDE);
    const out = new Float32Array(n * this.init.numClasses);
    for (let start = 0; start < n; start += PREDICT_CHUNK) {
      const count = Math.min(PREDICT_CHUNK, n - start);
      const slice = input.subarray(
        start * IMAGE_SIDE * IMAGE_SIDE,
        (start + count) * IMAGE_SIDE * IMAGE_SIDE,
      );
      const probs = tf.tidy(
        () => this.model.predict(tf.tensor4d(slice, [count, IMAGE_SIDE, IMAGE_SIDE, 1])) as tf.Tensor,
      );
      out.set((await probs.data()) as Float32Array, start * this.init.numClasses);
      probs.dispose();
    }
    return out;
  }

  /**
   * "Precise BN": replaces every batch-norm layer's moving mean and variance by the plain
   * average of its batch statistics over `pixels` in batches of `batch`, in training mode
   * (un-augmented images, the way inference sees them). The running averages kept during
   * training (momentum 0.99, ~100 steps) lag behind weights that change fast; for deep stacks
   * of batch norm (EfficientNet's MBConv+SE blocks) the lag compounds until inference-mode
   * outputs collapse to one class while training-mode outputs are fine. Returns the number of
   * batches used; the trainable weights are untouched.
   */
  recalibrateBatchNorm(pixels: Uint8Array, batch: number): number {
    const layers = this.model.layers.filter((l) => l.getClassName() === 'BatchNormalization');
    const input = toUnitFloats(pixels, false);
    const size = IMAGE_SIDE * IMAGE_SIDE;
    const batches = Math.floor(input.length / size / batch);
    if (layers.length === 0 || batches === 0) return 0;
    const bn = layers as unknown as Array<{ momentum: number }>;
    const momentum = bn.map((l) => l.momentum);
    // Dropout draws its seeds from Math.random (seeded per worker in createReplica): a generator
    // of its own here keeps training's random stream, and so the run, what it would be without.
    const random = Math.random;
    Math.random = mulberry32(batches * 7919 + pixels.length);
    try {
      for (let k = 1; k <= batches; k++) {
        // moving ← moving·(k−1)/k + batch/k: after k batches, the mean of their statistics.
        for (const l of bn) l.momentum = (k - 1) / k;
        const slice = input.subarray((k - 1) * batch * size, k * batch * size);
        tf.tidy(() => {
          this.model.apply(tf.tensor4d(slice, [batch, IMAGE_SIDE, IMAGE_SIDE, 1]), { training: true });
        });
      }
    } finally {
      Math.random = random;
      bn.forEach((l, i) => (l.momentum = momentum[i]));
    }
    return batches;
  }

  async weights(): Promise<Float32Array[]> {
    return Promise.all(this.model.weights.map(async (w) => (await w.read().data()) as Float32Array));
  }

  /** Loads saved weights by name, so the order (which --freeze changes) does not matter. */
  setNamedWeights(named: NamedWeights): void {
    const byName = new Map(named.map((w) => [w.name, w.values]));
    const weights = this.model.weights;
    const missing = weights.filter((w) => !byName.has(w.originalName)).map((w) => w.originalName);
    if (missing.length) {
      throw new Error(
        `the initial weights lack ${missing.length} of this ${this.init.arch} model's weights (e.g. ${missing[0]}): is it the same architecture?`,
      );
    }
    this.setWeights(
      weights.map((w) => {
        const values = byName.get(w.originalName)!;
        if (values.length !== w.shape.reduce((a: number, b) => a * (b ?? 1), 1)) {
          throw new Error(
            `initial weight ${w.originalName} has ${values.length} values, the model needs shape [${w.shape}]`,
          );
        }
        return values;
      }),
    );
  }

  setWeights(values: Float32Array[]): void {
    const weights = this.model.weights;
    if (values.length !== weights.length) {
      throw new Error(`got ${values.length} weight tensors, the model has ${weights.length}`);
    }
    const tensors = values.map((v, i) => tf.tensor(v, weights[i].shape as number[]));
    this.model.setWeights(tensors); // copies the values into the model's variables
    tf.dispose(tensors);
  }
}

export async function createReplica(init: WorkerInit): Promise<Replica> {
  // Dropout draws from tfjs's global RNG, which seeds itself from Math.random: seeding
  // Math.random per worker makes whole runs reproducible.
  Math.random = mulberry32(init.seed * 7919 + init.workerIndex + 1);
  let gpu: GpuContext | undefined;
  if (init.backend === 'webgpu') {
    gpu = await createGpu();
    await createTfWebgpuBackend(gpu, tf as unknown as Tf);
  } else if (!(await tf.setBackend(init.backend))) {
    throw new Error(`tfjs backend '${init.backend}' failed to start`);
  }
  if (init.backend === 'wasm') {
    registerWasmConvGradients();
    registerWasmFastReductions();
  }
  registerFastBatchNormGradient();
  const model = buildModel(init.arch, {
    numClasses: init.numClasses,
    seed: init.seed,
    width: init.width,
    view: init.view,
  });
  const replica = new Replica(model, init, gpu);
  if (init.weights) replica.setNamedWeights(init.weights);
  if (init.optimizer) await replica.restoreOptimizer(init.optimizer);
  return replica;
}

function serve(port: NonNullable<typeof parentPort>): void {
  let replica: Replica | undefined;
  const send = (msg: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);
  const need = () => {
    if (!replica) throw new Error('worker used before init');
    return replica;
  };
  // Messages are handled strictly in order: a chain of promises.
  let queue = Promise.resolve();
  port.on('message', (msg: ToWorker) => {
    queue = queue.then(async () => {
      try {
        switch (msg.type) {
          case 'init': {
            replica = await createReplica(msg);
            const weightShapes = replica.model.weights.map((w) => w.shape as number[]);
            send({
              type: 'ready',
              params: replica.model.countParams(),
              trainableSizes: replica.trainableSizes,
              weightShapes,
              backend: tf.getBackend(),
            });
            break;
          }
          case 'grad': {
            const result = await need().grad(msg);
            send({ type: 'grad', result }, [result.grads.buffer as ArrayBuffer]);
            break;
          }
          case 'apply':
            need().apply(msg.grads, msg.lr);
            send({ type: 'applied' });
            break;
          case 'predict': {
            const probs = await need().predict(msg.pixels, msg.flip);
            send({ type: 'predicted', probs }, [probs.buffer as ArrayBuffer]);
            break;
          }
          case 'recalibrate':
            send({ type: 'recalibrated', batches: need().recalibrateBatchNorm(msg.pixels, msg.batch) });
            break;
          case 'getWeights':
            send({ type: 'weights', weights: await need().weights() });
            break;
          case 'setWeights':
            need().setWeights(msg.weights);
            send({ type: 'applied' });
            break;
          case 'getOptimizer':
            send({ type: 'optimizer', state: await need().optimizerState() });
            break;
          case 'saveModel':
            await saveModel(need().model, msg.dir, { float16: msg.float16, metadata: msg.metadata });
            send({ type: 'saved' });
            break;
        }
      } catch (err) {
        const e = err as Error;
        send({ type: 'error', message: e.message, stack: e.stack });
      }
    });
  });
}

if (parentPort) serve(parentPort);
