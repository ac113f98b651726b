// The crop encoder, off the main thread: receives a frame (an ImageBitmap, transferred) and
// the regions to cut, answers with the encoded crops (their buffers transferred back).
import { encodeCrops, type Canvas2D } from './encode-crops.ts';
import type { EncodeRequest, EncodeResponse } from './encoder.ts';

interface WorkerScope {
  onmessage: ((ev: MessageEvent<EncodeRequest>) => void) | null;
  postMessage(message: EncodeResponse, transfer: Transferable[]): void;
}

const scope = self as unknown as WorkerScope;

scope.onmessage = async (ev) => {
  const { id, frame, jobs, format, quality } = ev.data;
  const started = performance.now();
  try {
    const out = await encodeCrops(
      frame,
      jobs,
      format,
      quality,
      (w, h) => new OffscreenCanvas(w, h) as unknown as Canvas2D,
    );
    const response: EncodeResponse = {
      id,
      ok: true,
      crops: out.crops,
      format: out.format,
      ms: performance.now() - started,
    };
    scope.postMessage(
      response,
      out.crops.map((c) => c.buffer as ArrayBuffer),
    );
  } catch (err) {
    scope.postMessage({ id, ok: false, error: (err as Error).message, ms: performance.now() - started }, []);
  } finally {
    frame.close();
  }
};
