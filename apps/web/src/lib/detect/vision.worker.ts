// The vision worker: the face detector (tfjs) and the crop encoder (OffscreenCanvas), off the
// main thread. Messages are defined in vision.ts; requests are handled one at a time.
import { cropRegion, encodedSide } from '../crop/crop.ts';
import { encodeCrops, type Canvas2D } from '../encode/encode-crops.ts';
import { startDetector, type BrowserDetector } from './runtime.ts';
import type { EncodedFaces, EncodeOptions, VisionReply, VisionRequest } from './vision.ts';
import type { Detection } from './blazeface.ts';

interface WorkerScope {
  onmessage: ((ev: MessageEvent<VisionRequest>) => void) | null;
  postMessage(message: VisionReply, transfer?: Transferable[]): void;
}

class VisionService {
  private detector: BrowserDetector | undefined;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly scope: WorkerScope) {
    scope.onmessage = (ev) => {
      this.queue = this.queue.then(() => this.handle(ev.data));
    };
  }

  private async handle(m: VisionRequest): Promise<void> {
    if (m.type === 'start') return this.start(m.force);
    try {
      await this.frame(m.id, m.frame, m.encode);
    } catch (err) {
      this.scope.postMessage({ type: 'frame-failed', id: m.id, message: (err as Error).message });
    } finally {
      m.frame.close();
    }
  }

  private async start(force: Parameters<typeof startDetector>[0]): Promise<void> {
    this.detector?.dispose();
    this.detector = undefined;
    try {
      this.detector = await startDetector(force, (step) =>
        this.scope.postMessage({ type: 'progress', step }),
      );
      const { choice, backendDetail: detail } = this.detector;
      this.scope.postMessage({ type: 'started', started: { choice, detail } });
    } catch (err) {
      this.scope.postMessage({ type: 'start-failed', message: (err as Error).message });
    }
  }

  private async frame(id: number, frame: ImageBitmap, encode: EncodeOptions | undefined): Promise<void> {
    if (!this.detector) throw new Error('the detector is not started');
    const t0 = performance.now();
    const detections = await this.detector.detect(frame);
    const detectMs = performance.now() - t0;
    let encoded: EncodedFaces | undefined;
    let encodeError: string | undefined;
    if (encode && detections.length > 0) {
      try {
        encoded = await this.encode(frame, detections, encode);
      } catch (err) {
        encodeError = (err as Error).message;
      }
    }
    this.scope.postMessage(
      { type: 'frame', id, detections, detectMs, encoded, encodeError },
      encoded ? encoded.crops.map((c) => c.buffer as ArrayBuffer) : [],
    );
  }

  private async encode(frame: ImageBitmap, detections: Detection[], o: EncodeOptions): Promise<EncodedFaces> {
    const t0 = performance.now();
    const size = { width: frame.width, height: frame.height };
    // The largest faces first when there are more than the server takes.
    const faceIndex = detections
      .map((d, i) => ({ i, area: d.box.w * d.box.h }))
      .sort((a, b) => b.area - a.area)
      .slice(0, o.maxFaces)
      .map((f) => f.i);
    const regions = faceIndex.map((i) => cropRegion(detections[i].box, size, o.margin));
    const jobs = regions.map((region) => ({ region, side: encodedSide(region, o.cropSide) }));
    const out = await encodeCrops(
      frame,
      jobs,
      o.format,
      o.quality,
      (w, h) => new OffscreenCanvas(w, h) as unknown as Canvas2D,
    );
    return { faceIndex, regions, crops: out.crops, format: out.format, ms: performance.now() - t0 };
  }
}

new VisionService(self as unknown as WorkerScope);
