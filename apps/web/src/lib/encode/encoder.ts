// The main thread's side of the encoder worker: one request at a time per call, answers
// matched by id. The frame bitmap is transferred (the caller must not use it afterwards).
import type { CropFormat } from './format.ts';
import type { CropJob } from './encode-crops.ts';

export interface EncodeRequest {
  id: number;
  frame: ImageBitmap;
  jobs: CropJob[];
  format: CropFormat;
  quality: number;
}

export type EncodeResponse =
  | { id: number; ok: true; crops: Uint8Array[]; format: CropFormat; ms: number }
  | { id: number; ok: false; error: string; ms: number };

export interface WorkerLike {
  onmessage: ((ev: MessageEvent<EncodeResponse>) => void) | null;
  postMessage(message: EncodeRequest, transfer: Transferable[]): void;
  terminate(): void;
}

export class CropEncoder {
  private nextId = 1;
  private readonly pending = new Map<number, (r: EncodeResponse) => void>();

  constructor(private readonly worker: WorkerLike) {
    worker.onmessage = (ev) => {
      const resolve = this.pending.get(ev.data.id);
      this.pending.delete(ev.data.id);
      resolve?.(ev.data);
    };
  }

  /** The app's worker (bundled by vite from encoder.worker.ts). */
  static start(): CropEncoder {
    const worker = new Worker(new URL('./encoder.worker.ts', import.meta.url), {
      type: 'module',
      name: 'crop-encoder',
    });
    return new CropEncoder(worker as unknown as WorkerLike);
  }

  get busy(): boolean {
    return this.pending.size > 0;
  }

  encode(frame: ImageBitmap, jobs: CropJob[], format: CropFormat, quality: number): Promise<EncodeResponse> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.worker.postMessage({ id, frame, jobs, format, quality }, [frame]);
    });
  }

  dispose(): void {
    this.worker.terminate();
    for (const [id, resolve] of this.pending) resolve({ id, ok: false, error: 'encoder stopped', ms: 0 });
    this.pending.clear();
  }
}
