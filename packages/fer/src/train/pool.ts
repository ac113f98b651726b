// The coordinator's side of the data-parallel workers: one Worker per core, each with a
// model replica; requests to one worker are answered in order.
import { Worker } from 'node:worker_threads';
import { IMAGE_BYTES } from '../data/format.ts';
import type { BatchAugment, FromWorker, GradResult, ToWorker, WorkerInit } from './messages.ts';

type Reply = Exclude<FromWorker, { type: 'error' }>;

/** Splits `total` units into `k` contiguous [from, to) ranges whose sizes differ by at most one. */
export function shares(total: number, k: number): Array<[number, number]> {
  return Array.from({ length: k }, (_, i) => [
    Math.floor((total * i) / k),
    Math.floor((total * (i + 1)) / k),
  ]);
}

class ReplicaWorker {
  private readonly worker: Worker;
  private readonly pending: Array<{ resolve: (m: Reply) => void; reject: (e: Error) => void }> = [];
  private failure: Error | undefined;

  constructor() {
    this.worker = new Worker(new URL('./worker-entry.mjs', import.meta.url));
    this.worker.on('message', (msg: FromWorker) => {
      const waiter = this.pending.shift();
      if (!waiter) return;
      if (msg.type === 'error') waiter.reject(new Error(`training worker: ${msg.message}`));
      else waiter.resolve(msg);
    });
    const fail = (err: Error) => {
      this.failure = err;
      for (const w of this.pending.splice(0)) w.reject(err);
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => {
      if (code !== 0) fail(new Error(`training worker exited with code ${code}`));
    });
  }

  request<T extends Reply['type']>(
    msg: ToWorker,
    expect: T,
    transfer: ArrayBuffer[] = [],
  ): Promise<Extract<Reply, { type: T }>> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.push({
        resolve: (m) =>
          m.type === expect
            ? resolve(m as Extract<Reply, { type: T }>)
            : reject(new Error(`worker replied ${m.type}, expected ${expect}`)),
        reject,
      });
      this.worker.postMessage(msg, transfer);
    });
  }

  terminate(): Promise<number> {
    return this.worker.terminate();
  }
}

export interface PoolInfo {
  params: number;
  /** The tfjs backend the replicas actually run on. */
  backend: string;
  trainableSizes: number[];
  weightShapes: number[][];
}

export class WorkerPool {
  private constructor(
    private readonly workers: ReplicaWorker[],
    readonly info: PoolInfo,
  ) {}

  static async start(size: number, init: Omit<WorkerInit, 'type' | 'workerIndex'>): Promise<WorkerPool> {
    const workers = Array.from({ length: size }, () => new ReplicaWorker());
    try {
      const ready = await Promise.all(
        workers.map((w, i) => w.request({ ...init, type: 'init', workerIndex: i }, 'ready')),
      );
      return new WorkerPool(workers, ready[0]);
    } catch (err) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw err;
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /** Gradients of each worker's slice, summed (not yet averaged). */
  async gradients(
    slices: Array<{ pixels: Uint8Array; labels: Uint8Array }>,
    classWeights: number[],
    augment: BatchAugment | undefined,
  ): Promise<{ grads: Float32Array; weightedLoss: number; weightSum: number; correct: number; n: number }> {
    const results: GradResult[] = (
      await Promise.all(
        slices.map((s, i) =>
          this.workers[i].request(
            {
              type: 'grad',
              pixels: s.pixels,
              labels: s.labels,
              classWeights,
              // Each worker's slice draws its own parameters.
              augment: augment && { ...augment, seed: augment.seed * 31 + i },
            },
            'grad',
            [s.pixels.buffer as ArrayBuffer],
          ),
        ),
      )
    ).map((r) => r.result);
    const grads = results[0].grads;
    for (const r of results.slice(1)) for (let j = 0; j < grads.length; j++) grads[j] += r.grads[j];
    const sum = (f: (r: GradResult) => number) => results.reduce((a, r) => a + f(r), 0);
    return {
      grads,
      weightedLoss: sum((r) => r.weightedLoss),
      weightSum: sum((r) => r.weightSum),
      correct: sum((r) => r.correct),
      n: sum((r) => r.n),
    };
  }

  /** Every replica applies the same averaged gradient. */
  async apply(grads: Float32Array, lr: number): Promise<void> {
    await Promise.all(this.workers.map((w) => w.request({ type: 'apply', grads, lr }, 'applied')));
  }

  /** Class probabilities for n images, split across the workers. */
  async predict(pixels: Uint8Array, numClasses: number, flip = false): Promise<Float32Array> {
    const n = pixels.length / IMAGE_BYTES;
    const parts = await Promise.all(
      shares(n, this.workers.length).map(([from, to], i) => {
        if (to === from) return Promise.resolve(new Float32Array(0));
        const slice = pixels.slice(from * IMAGE_BYTES, to * IMAGE_BYTES);
        return this.workers[i]
          .request({ type: 'predict', pixels: slice, flip }, 'predicted', [slice.buffer])
          .then((r) => r.probs);
      }),
    );
    const out = new Float32Array(n * numClasses);
    let offset = 0;
    for (const p of parts) {
      out.set(p, offset);
      offset += p.length;
    }
    return out;
  }

  /**
   * Re-estimates batch-norm statistics ("precise BN") on `pixels`, split across the replicas
   * in batches of `batch`; the syncWeights() that follows averages the replicas' estimates.
   * Returns the number of batches used in all.
   */
  async recalibrate(pixels: Uint8Array, batch: number): Promise<number> {
    const total = Math.floor(pixels.length / IMAGE_BYTES / batch);
    if (total === 0) return 0;
    const k = this.workers.length;
    // Every replica gets at least one batch (all of them when there are fewer batches than
    // replicas), so none keeps stale statistics into the average.
    const ranges = total >= k ? shares(total, k) : this.workers.map((): [number, number] => [0, total]);
    const done = await Promise.all(
      ranges.map(([from, to], i) => {
        const slice = pixels.slice(from * batch * IMAGE_BYTES, to * batch * IMAGE_BYTES);
        return this.workers[i]
          .request({ type: 'recalibrate', pixels: slice, batch }, 'recalibrated', [slice.buffer])
          .then((r) => r.batches);
      }),
    );
    return total >= k ? done.reduce((a, b) => a + b, 0) : total;
  }

  /**
   * Averages every weight over the replicas. Trainable weights are already equal; the
   * batch-norm running statistics differ, since each replica saw only its own slices.
   */
  async syncWeights(): Promise<Float32Array[]> {
    const all = await Promise.all(this.workers.map((w) => w.request({ type: 'getWeights' }, 'weights')));
    const avg = all[0].weights;
    for (const other of all.slice(1)) avg.forEach((a, t) => other.weights[t].forEach((v, j) => (a[j] += v)));
    const k = this.workers.length;
    if (k > 1) for (const a of avg) for (let j = 0; j < a.length; j++) a[j] /= k;
    await this.setWeights(avg);
    return avg;
  }

  /** Every replica takes these weights (all of them, in getWeights order; copied). */
  async setWeights(weights: Float32Array[]): Promise<void> {
    await Promise.all(this.workers.map((w) => w.request({ type: 'setWeights', weights }, 'applied')));
  }

  async optimizerState(): Promise<Float32Array[]> {
    return (await this.workers[0].request({ type: 'getOptimizer' }, 'optimizer')).state;
  }

  async saveModel(dir: string, float16: boolean, metadata?: Record<string, unknown>): Promise<void> {
    await this.workers[0].request({ type: 'saveModel', dir, float16, metadata }, 'saved');
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
