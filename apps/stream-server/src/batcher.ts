// Micro-batching across sessions. Frames wait in their session's bounded queue; a batch
// starts when `maxFaces` faces wait or the oldest waiting frame has waited `windowMs`. A
// batch takes whole frames round-robin over the sessions (fairness), decodes their crops on
// the thread pool, then runs preprocess + the models once for all of them, and hands each
// frame its result. Two batches may be in flight (one decoding while the other infers); the
// inference turns are reserved when a batch is taken, so results leave in arrival order.
import { applyClassBias } from '@affect/fer';
import type { FaceCrop } from '@affect/gpu';
import type { ErrorMessage, FaceResult, FrameMessage, ResultMessage } from '@affect/protocol';
import type { BatchOptions } from './config.ts';
import { CropError, decodeCrop } from './decode.ts';
import type { Engine } from './engine.ts';
import type { ServerMetrics } from './metrics.ts';

const MAX_IN_FLIGHT = 2;

export interface QueuedFrame {
  frame: FrameMessage;
  /** performance.now() when the message arrived. */
  arrivedAt: number;
}

/** A session as the batcher sees it: a queue to take from and a place to put outcomes. */
export interface FrameSource {
  /** The oldest waiting frame, if any. */
  peek(): QueuedFrame | undefined;
  take(): QueuedFrame | undefined;
  /** Models whose own probabilities this session wants. */
  readonly wantedModels: ReadonlySet<string>;
  deliver(outcome: ResultMessage | ErrorMessage): void;
}

interface Taken {
  source: FrameSource;
  queued: QueuedFrame;
}

export class Batcher {
  private readonly waiting = new Set<FrameSource>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private turn: Promise<void> = Promise.resolve();
  private idle: Array<() => void> = [];

  constructor(
    private readonly engine: Engine,
    private readonly options: BatchOptions,
    private readonly maxCropSide: number,
    private readonly metrics: ServerMetrics,
  ) {}

  /** A source queued a frame. */
  wake(source: FrameSource): void {
    this.waiting.add(source);
    this.schedule();
  }

  /** A source is gone: its queued frames will never be taken. */
  forget(source: FrameSource): void {
    this.waiting.delete(source);
    this.notifyIfIdle();
  }

  /** Resolves once nothing waits and no batch is in flight. */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private notifyIfIdle(): void {
    if (this.isIdle()) for (const resolve of this.idle.splice(0)) resolve();
  }

  private isIdle(): boolean {
    return this.inFlight === 0 && ![...this.waiting].some((s) => s.peek());
  }

  private schedule(): void {
    while (this.inFlight < MAX_IN_FLIGHT) {
      let faces = 0;
      let oldest = Infinity;
      for (const source of this.waiting) {
        const head = source.peek();
        if (!head) continue;
        oldest = Math.min(oldest, head.arrivedAt);
        faces += head.frame.faces.length;
      }
      if (oldest === Infinity) return;
      const waited = performance.now() - oldest;
      if (faces < this.options.maxFaces && waited < this.options.windowMs) {
        this.timer ??= setTimeout(() => {
          this.timer = undefined;
          this.schedule();
        }, this.options.windowMs - waited);
        return;
      }
      clearTimeout(this.timer);
      this.timer = undefined;
      void this.runBatch(this.takeBatch());
    }
  }

  /** Whole frames, one per session per round, up to maxFaces (always at least one frame). */
  private takeBatch(): Taken[] {
    const taken: Taken[] = [];
    let faces = 0;
    let progress = true;
    while (progress) {
      progress = false;
      for (const source of [...this.waiting]) {
        const head = source.peek();
        if (!head) {
          this.waiting.delete(source);
          continue;
        }
        if (taken.length > 0 && faces + head.frame.faces.length > this.options.maxFaces) return taken;
        const queued = source.take()!;
        taken.push({ source, queued });
        faces += queued.frame.faces.length;
        progress = true;
        // Round-robin across batches too: this session goes to the back of the line.
        this.waiting.delete(source);
        if (source.peek()) this.waiting.add(source);
      }
    }
    return taken;
  }

  private async runBatch(batch: Taken[]): Promise<void> {
    this.inFlight++;
    const myTurn = this.turn;
    let done!: () => void;
    this.turn = new Promise((resolve) => (done = resolve));
    try {
      const takenAt = performance.now();
      const decoded = await Promise.all(
        batch.map(({ queued }) =>
          Promise.all(queued.frame.faces.map((f) => decodeCrop(f.crop, this.maxCropSide))).then(
            (crops) => ({ crops }) as const,
            (err: unknown) => ({ err }) as const,
          ),
        ),
      );
      const decodedAt = performance.now();
      await myTurn;
      const startedAt = performance.now();
      const crops: FaceCrop[] = decoded.flatMap((d) => ('crops' in d ? d.crops : []));
      let output: Awaited<ReturnType<Engine['run']>> | undefined;
      let failure: unknown;
      if (crops.length > 0) {
        try {
          output = await this.engine.run(crops);
        } catch (err) {
          failure = err;
        }
      }
      const stageMs = {
        decode: decodedAt - takenAt,
        preprocess: output?.preprocessMs ?? 0,
        inference: output?.inferenceMs ?? 0,
      };
      this.metrics.batchFaces.observe(crops.length);
      this.metrics.batchFrames.observe(batch.length);
      for (const [stage, ms] of Object.entries(stageMs)) this.metrics.stage.observe(ms / 1000, { stage });

      let row = 0;
      batch.forEach(({ source, queued }, i) => {
        const d = decoded[i];
        const frameId = queued.frame.frameId;
        if ('err' in d) {
          const err = d.err;
          const code = err instanceof CropError ? err.code : 'internal';
          source.deliver({ type: 'error', code, frameId, message: (err as Error).message });
          return;
        }
        if (failure) {
          row += d.crops.length;
          source.deliver({
            type: 'error',
            code: 'internal',
            frameId,
            message: `inference failed: ${(failure as Error).message}`,
          });
          return;
        }
        const faces = queued.frame.faces.map((face, f) =>
          this.faceResult(face.box, output!, row + f, source.wantedModels),
        );
        row += d.crops.length;
        const now = performance.now();
        source.deliver({
          type: 'result',
          frameId,
          capturedAt: queued.frame.capturedAt,
          faces,
          timings: {
            queue: round(takenAt - queued.arrivedAt + (startedAt - decodedAt)),
            decode: round(stageMs.decode),
            preprocess: round(stageMs.preprocess),
            inference: round(stageMs.inference),
            total: round(now - queued.arrivedAt),
          },
          batchSize: crops.length,
          dropped: 0,
          lostMessages: 0,
        });
      });
    } finally {
      done();
      this.inFlight--;
      this.schedule();
      this.notifyIfIdle();
    }
  }

  private faceResult(
    box: FaceResult['box'],
    output: { perModel: ReadonlyMap<string, Float32Array> },
    row: number,
    wanted: ReadonlySet<string>,
  ): FaceResult {
    const { members, weights, classes, classBias } = this.engine.models;
    const k = classes.length;
    const ensemble = new Array<number>(k).fill(0);
    const models: Record<string, number[]> = {};
    members.forEach((m, i) => {
      const probs = output.perModel.get(m.name);
      if (!probs) return; // weight 0: not run, and it would add nothing
      const p = Array.from(probs.subarray(row * k, (row + 1) * k));
      for (let c = 0; c < k; c++) ensemble[c] += weights[i] * p[c];
      if (wanted.has(m.name)) models[m.name] = p;
    });
    applyClassBias(ensemble, k, classBias);
    let best = 0;
    for (let c = 1; c < k; c++) if (ensemble[c] > ensemble[best]) best = c;
    return { box, models, ensemble, label: classes[best], confidence: ensemble[best] };
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
