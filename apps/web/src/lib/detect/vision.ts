// The main thread's handle on the vision worker, where the detector runs (tfjs, off the main
// thread so the page stays responsive and WebSocket messages are handled when they arrive) and
// where the face crops are cut and encoded (OffscreenCanvas). One frame in, its detections and,
// when asked, its encoded crops out; the frame's ImageBitmap is transferred, not copied.
import type { Box } from '../geometry.ts';
import type { CropFormat } from '../encode/format.ts';
import type { Detection } from './blazeface.ts';
import type { BackendChoice, TfBackendName } from './backend.ts';

export interface EncodeOptions {
  margin: number;
  /** Largest side of an encoded crop. */
  cropSide: number;
  /** Encode at most this many faces (the largest ones). */
  maxFaces: number;
  format: CropFormat;
  quality: number;
}

export interface EncodedFaces {
  /** For each crop, the index of its detection. */
  faceIndex: number[];
  /** The region each crop was cut from, frame pixels. */
  regions: Box[];
  crops: Uint8Array[];
  /** The format produced (WebP falls back to JPEG where the browser can't encode it). */
  format: CropFormat;
  ms: number;
}

export interface FrameReply {
  detections: Detection[];
  detectMs: number;
  encoded?: EncodedFaces;
  /** Encoding failed (detection did not). */
  encodeError?: string;
}

export interface VisionStarted {
  choice: BackendChoice;
  /** 'SIMD, one thread' for wasm; the adapter or renderer for GPU backends. */
  detail: string;
}

export type VisionRequest =
  | { type: 'start'; force?: TfBackendName }
  | { type: 'frame'; id: number; frame: ImageBitmap; encode?: EncodeOptions };

export type VisionReply =
  | { type: 'progress'; step: string }
  | { type: 'started'; started: VisionStarted }
  | { type: 'start-failed'; message: string }
  | ({ type: 'frame'; id: number } & FrameReply)
  | { type: 'frame-failed'; id: number; message: string };

export interface WorkerLike {
  onmessage: ((ev: MessageEvent<VisionReply>) => void) | null;
  onerror: ((ev: ErrorEvent) => void) | null;
  postMessage(message: VisionRequest, transfer?: Transferable[]): void;
  terminate(): void;
}

interface Waiting<T> {
  resolve(value: T): void;
  reject(err: Error): void;
}

export class VisionClient {
  private nextId = 1;
  private readonly frames = new Map<number, Waiting<FrameReply>>();
  private starting: (Waiting<VisionStarted> & { progress(step: string): void }) | undefined;

  constructor(private readonly worker: WorkerLike) {
    worker.onmessage = (ev) => this.onReply(ev.data);
    worker.onerror = (ev) => this.failAll(new Error(`vision worker: ${ev.message || 'failed to load'}`));
  }

  /** The app's worker (bundled by vite from vision.worker.ts). */
  static create(): VisionClient {
    const worker = new Worker(new URL('./vision.worker.ts', import.meta.url), {
      type: 'module',
      name: 'vision',
    });
    return new VisionClient(worker as unknown as WorkerLike);
  }

  /** (Re)starts the detector on the fastest backend, or on `force`. */
  start(force: TfBackendName | undefined, progress: (step: string) => void): Promise<VisionStarted> {
    this.starting?.reject(new Error('restarted'));
    return new Promise((resolve, reject) => {
      this.starting = { resolve, reject, progress };
      this.worker.postMessage({ type: 'start', ...(force ? { force } : {}) });
    });
  }

  /** Detects faces in `frame` (transferred) and, with `encode`, cuts and encodes them. */
  process(frame: ImageBitmap, encode?: EncodeOptions): Promise<FrameReply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.frames.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'frame', id, frame, ...(encode ? { encode } : {}) }, [frame]);
    });
  }

  dispose(): void {
    this.worker.terminate();
    this.failAll(new Error('vision worker stopped'));
  }

  private onReply(m: VisionReply): void {
    if (m.type === 'progress') this.starting?.progress(m.step);
    else if (m.type === 'started') this.settleStart((w) => w.resolve(m.started));
    else if (m.type === 'start-failed') this.settleStart((w) => w.reject(new Error(m.message)));
    else {
      const waiting = this.frames.get(m.id);
      this.frames.delete(m.id);
      if (!waiting) return;
      if (m.type === 'frame-failed') waiting.reject(new Error(m.message));
      else
        waiting.resolve({
          detections: m.detections,
          detectMs: m.detectMs,
          encoded: m.encoded,
          encodeError: m.encodeError,
        });
    }
  }

  private settleStart(fn: (w: Waiting<VisionStarted>) => void): void {
    const s = this.starting;
    this.starting = undefined;
    if (s) fn(s);
  }

  private failAll(err: Error): void {
    this.settleStart((w) => w.reject(err));
    for (const w of this.frames.values()) w.reject(err);
    this.frames.clear();
  }
}
