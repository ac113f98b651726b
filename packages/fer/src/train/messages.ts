// Messages between the training coordinator and its data-parallel workers.
import type { Arch, View } from '../models/architectures.ts';

export type NamedWeights = Array<{ name: string; values: Float32Array }>;

/** Where a replica runs: WebGPU (a real GPU; the WGSL augment kernel), wasm or tfjs's JS cpu. */
export type TrainBackend = 'webgpu' | 'wasm' | 'cpu';

export interface WorkerInit {
  type: 'init';
  workerIndex: number;
  arch: Arch;
  numClasses: number;
  seed: number;
  /** Channel width multiplier (ArchOptions.width); undefined: the architecture's default. */
  width?: number;
  /** Input view (ArchOptions.view); undefined: pixels. */
  view?: View;
  /** Start from these weights, matched by name: a checkpoint or an --init model. */
  weights?: NamedWeights;
  /** Adam state to resume from, in optimizer.getWeights() order. */
  optimizer?: Float32Array[];
  /** Layers to keep frozen, counted from the input (--freeze). */
  freeze: number;
  labelSmoothing: number;
  weightDecay: number;
  backend: TrainBackend;
}

export interface GradRequest {
  type: 'grad';
  pixels: Uint8Array;
  labels: Uint8Array;
  classWeights: number[];
  /** How the batch is augmented; absent: it is not (--no-augment). */
  augment?: BatchAugment;
}

/** A batch's augmentation: the seed its parameters are drawn from and the chance of erasing. */
export interface BatchAugment {
  seed: number;
  /** Chance of random erasing per image (TrainConfig.erase; 0: none). */
  eraseProbability: number;
}

export interface ApplyRequest {
  type: 'apply';
  /** Gradients averaged over the whole batch, concatenated in trainable-weight order. */
  grads: Float32Array;
  lr: number;
}

export interface PredictRequest {
  type: 'predict';
  pixels: Uint8Array;
  flip: boolean;
}

/** Re-estimate batch-norm statistics on these images (see Replica.recalibrateBatchNorm). */
export interface RecalibrateRequest {
  type: 'recalibrate';
  pixels: Uint8Array;
  batch: number;
}

export type ToWorker =
  | WorkerInit
  | GradRequest
  | ApplyRequest
  | PredictRequest
  | RecalibrateRequest
  | { type: 'getWeights' }
  | { type: 'setWeights'; weights: Float32Array[] }
  | { type: 'getOptimizer' }
  | { type: 'saveModel'; dir: string; float16: boolean; metadata?: Record<string, unknown> };

export interface GradResult {
  /** Σ weight·loss over the samples (not averaged: the coordinator divides by Σ weight). */
  weightedLoss: number;
  weightSum: number;
  correct: number;
  n: number;
  /** Gradient of weightedLoss, concatenated in trainable-weight order. */
  grads: Float32Array;
}

export type FromWorker =
  | { type: 'ready'; params: number; trainableSizes: number[]; weightShapes: number[][]; backend: string }
  | { type: 'grad'; result: GradResult }
  | { type: 'applied' }
  | { type: 'predicted'; probs: Float32Array }
  | { type: 'recalibrated'; batches: number }
  | { type: 'weights'; weights: Float32Array[] }
  | { type: 'optimizer'; state: Float32Array[] }
  | { type: 'saved' }
  | { type: 'error'; message: string; stack?: string };
