// The live loop, one frame's journey in the browser: camera frame → face detection and, when
// the pacer says a frame may go, crop encoding (both in the vision worker) → tracking → frame
// sent over the stream → result → per-face probabilities, smoothing, timeline. The main thread
// only moves frames and messages. Framework-free: the page subscribes to `onView`.
import type { ErrorMessage, ResultMessage, WelcomeMessage } from '@affect/protocol';
import { openCamera, isCameraError } from './capture/camera.ts';
import { videoFileError } from './capture/video-file.ts';
import type { LiveSettings } from './settings.ts';
import type { Detection } from './detect/blazeface.ts';
import type { TfBackendName } from './detect/backend.ts';
import type { EncodedFaces, VisionClient } from './detect/vision.ts';
import type { CropFormat } from './encode/format.ts';
import type { Box, FrameSize } from './geometry.ts';
import { RateMeter, RollingPercentiles } from './stats/rolling.ts';
import { StreamConnection, type ConnectionState } from './stream/connection.ts';
import { DEFAULT_PACER, FramePacer } from './stream/pacer.ts';
import {
  DEFAULT_TAU_MS,
  FaceBook,
  labelOf,
  type FaceProbs,
  type FaceState,
  type TimelinePoint,
} from './track/faces.ts';
import { DEFAULT_TRACKER, FaceTracker } from './track/tracker.ts';

export interface LiveFace {
  id: number;
  box: Box;
  /** Detector confidence. */
  score: number;
  /** Frames since the detector last saw it (0 = in this frame). */
  missed: number;
  state: FaceState | undefined;
  /** The probabilities shown: smoothed or raw, per the settings. */
  shown: FaceProbs | undefined;
  label: string;
  confidence: number;
}

export interface ServerTimingsP50 {
  queue: number;
  decode: number;
  preprocess: number;
  inference: number;
  total: number;
}

export interface HudStats {
  cameraFps: number;
  detectFps: number;
  detectMsP50: number;
  sentFps: number;
  resultFps: number;
  rttP50: number;
  rttP95: number;
  server: ServerTimingsP50;
  batchSize: number;
  framesSent: number;
  results: number;
  /** Frames the server dropped unprocessed (latest wins), as it reported. */
  droppedByServer: number;
  /** Frames never answered (connection lost, timed out). */
  unanswered: number;
  lostMessages: number;
  errors: number;
  sendIntervalMs: number;
  inFlight: number;
  facesNow: number;
}

/** Where frames come from: a camera, or a video file played in the page (looped). */
export type SourceKind = 'camera' | 'file';

export type CameraStatus =
  | { kind: 'off' }
  | { kind: 'starting'; source: SourceKind }
  | { kind: 'on'; source: SourceKind; label: string; width: number; height: number }
  | { kind: 'error'; message: string };

export type DetectorStatus =
  | { kind: 'loading'; step: string }
  | { kind: 'ready'; backend: TfBackendName; reason: string; detail: string }
  | { kind: 'error'; message: string };

export interface LiveView {
  camera: CameraStatus;
  detector: DetectorStatus;
  connection: ConnectionState;
  welcome: WelcomeMessage | undefined;
  frame: FrameSize | undefined;
  faces: LiveFace[];
  /** The face the timeline follows. */
  selectedId: number | undefined;
  timeline: TimelinePoint[];
  hud: HudStats;
  /** The latest error from the server or the pipeline, for the status line. */
  lastError: string | undefined;
  cropFormat: CropFormat;
}

interface SentFrame {
  trackIds: number[];
}

export interface SessionDeps {
  /** The vision worker (VisionClient.create() in the app). */
  createVision(): VisionClient;
}

export class LiveSession {
  private readonly tracker = new FaceTracker(DEFAULT_TRACKER);
  private readonly book = new FaceBook(DEFAULT_TAU_MS);
  private readonly pacer = new FramePacer({ ...DEFAULT_PACER });
  private readonly connection: StreamConnection;
  private vision: VisionClient | undefined;
  private detectorReady = false;
  private stream: MediaStream | undefined;
  /** The object URL of a video file being played, revoked when it stops. */
  private fileUrl: string | undefined;
  private video: HTMLVideoElement | undefined;
  /** Frames the camera has presented (requestVideoFrameCallback), so the loop knows a new one is there. */
  private framesPresented = 0;
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  private nextFrameId = 0;
  private readonly sent = new Map<number, SentFrame>();
  private detections: { det: Detection; id: number }[] = [];
  private frame: FrameSize | undefined;
  private selected: number | undefined;
  private camera: CameraStatus = { kind: 'off' };
  private detectorStatus: DetectorStatus = { kind: 'loading', step: 'starting' };
  private lastError: string | undefined;
  private emitScheduled = false;
  private listeners = new Set<(view: LiveView) => void>();

  private readonly cameraRate = new RateMeter();
  private readonly detectRate = new RateMeter();
  private readonly sentRate = new RateMeter();
  private readonly resultRate = new RateMeter();
  private readonly detectMs = new RollingPercentiles(100);
  private readonly rtt = new RollingPercentiles(200);
  private readonly server = {
    queue: new RollingPercentiles(100),
    decode: new RollingPercentiles(100),
    preprocess: new RollingPercentiles(100),
    inference: new RollingPercentiles(100),
    total: new RollingPercentiles(100),
  };
  private counts = {
    framesSent: 0,
    results: 0,
    droppedByServer: 0,
    unanswered: 0,
    lostMessages: 0,
    errors: 0,
    batchSize: 0,
  };

  constructor(
    streamUrl: string,
    public settings: LiveSettings,
    private readonly deps: SessionDeps,
  ) {
    this.connection = new StreamConnection(streamUrl, {
      state: (s) => this.onConnection(s),
      result: (r) => this.onResult(r),
      error: (e) => this.onServerError(e),
    });
  }

  get streamUrl(): string {
    return this.connection.url;
  }

  onView(listener: (view: LiveView) => void): () => void {
    this.listeners.add(listener);
    listener(this.view());
    return () => this.listeners.delete(listener);
  }

  /** Connects to the server and loads the detector; the camera starts with startCamera(). */
  async start(forceBackend?: TfBackendName): Promise<void> {
    this.connection.start();
    await this.loadDetector(forceBackend);
  }

  async loadDetector(forceBackend?: TfBackendName): Promise<void> {
    const wasRunning = this.running;
    if (wasRunning) await this.stopLoop();
    this.detectorReady = false;
    this.detectorStatus = { kind: 'loading', step: 'starting' };
    this.emit();
    try {
      this.vision ??= this.deps.createVision();
      const { choice, detail } = await this.vision.start(forceBackend, (step) => {
        this.detectorStatus = { kind: 'loading', step };
        this.emit();
      });
      this.detectorReady = true;
      this.detectorStatus = { kind: 'ready', backend: choice.backend, reason: choice.reason, detail };
    } catch (err) {
      this.detectorStatus = {
        kind: 'error',
        message: `The face detector failed to start: ${(err as Error).message}`,
      };
    }
    this.emit();
    if (wasRunning || this.video) this.startLoop();
  }

  /** Opens the camera into `video` and starts the live loop. */
  async startCamera(video: HTMLVideoElement, deviceId?: string): Promise<void> {
    this.stopCamera();
    this.camera = { kind: 'starting', source: 'camera' };
    this.emit();
    try {
      this.stream = await openCamera(deviceId);
    } catch (err) {
      this.camera = { kind: 'error', message: isCameraError(err) ? err.message : String(err) };
      this.emit();
      return;
    }
    video.srcObject = this.stream;
    video.muted = true;
    video.playsInline = true;
    await video.play().catch(() => {});
    const track = this.stream.getVideoTracks()[0];
    const s = track?.getSettings();
    this.camera = {
      kind: 'on',
      source: 'camera',
      label: track?.label ?? 'camera',
      width: s?.width ?? video.videoWidth,
      height: s?.height ?? video.videoHeight,
    };
    this.begin(video);
  }

  /**
   * Plays a recorded video file into `video` (looped, muted) and runs the same live loop on it
   * as on a camera. The file stays in this browser; only face crops go to the server.
   */
  async startVideoFile(video: HTMLVideoElement, file: File): Promise<void> {
    this.stopCamera();
    this.camera = { kind: 'starting', source: 'file' };
    this.emit();
    const url = URL.createObjectURL(file);
    this.fileUrl = url;
    video.srcObject = null;
    video.muted = true;
    video.playsInline = true;
    video.loop = true;
    video.src = url;
    try {
      await video.play();
      if (video.videoWidth === 0) throw new Error('it has no video track');
    } catch (err) {
      if (this.fileUrl !== url) return; // replaced or stopped while it loaded
      this.releaseFile(video);
      this.camera = { kind: 'error', message: videoFileError(file, err) };
      this.emit();
      return;
    }
    if (this.fileUrl !== url) return; // replaced or stopped while it loaded
    this.camera = {
      kind: 'on',
      source: 'file',
      label: file.name,
      width: video.videoWidth,
      height: video.videoHeight,
    };
    this.begin(video);
  }

  private begin(video: HTMLVideoElement): void {
    this.video = video;
    this.countCameraFrames(video);
    this.startLoop();
    this.emit();
  }

  /** Stops the camera or the video file, whichever is running. */
  stopCamera(): void {
    void this.stopLoop();
    for (const t of this.stream?.getTracks() ?? []) t.stop();
    this.stream = undefined;
    if (this.video) this.video.srcObject = null;
    this.releaseFile(this.video);
    this.video = undefined;
    this.camera = { kind: 'off' };
    this.detections = [];
    this.tracker.reset();
    this.book.clear();
    this.emit();
  }

  /** Detaches a playing video file from `video` (when given) and revokes its object URL. */
  private releaseFile(video: HTMLVideoElement | undefined): void {
    if (!this.fileUrl) return;
    if (video) {
      video.pause();
      video.removeAttribute('src');
      video.load();
    }
    URL.revokeObjectURL(this.fileUrl);
    this.fileUrl = undefined;
  }

  /** The deviceId of the open camera, when one is open. */
  get cameraDeviceId(): string | undefined {
    return this.stream?.getVideoTracks()[0]?.getSettings().deviceId;
  }

  select(trackId: number | undefined): void {
    this.selected = trackId;
    this.emit();
  }

  applySettings(settings: LiveSettings): void {
    this.settings = settings;
    this.book.tauMs = settings.tauMs;
    this.pacer.options = { ...this.pacer.options, maxFps: this.maxFps() };
    this.emit();
  }

  dispose(): void {
    this.stopCamera();
    this.connection.stop('page closed');
    this.vision?.dispose();
    this.vision = undefined;
    this.listeners.clear();
  }

  // ── the loop ─────────────────────────────────────────────────────────────────────────

  private startLoop(): void {
    if (this.running || !this.video || !this.detectorReady) return;
    this.running = true;
    this.loopDone = this.loop(this.video);
  }

  private async stopLoop(): Promise<void> {
    this.running = false;
    await this.loopDone;
  }

  private async loop(video: HTMLVideoElement): Promise<void> {
    let processed = -1;
    while (this.running) {
      // Take the newest frame as soon as the previous one is done; wait only when the camera
      // has not presented a new one since (waiting for the next frame every time would lose
      // up to a frame period per frame).
      if (this.framesPresented === processed) await nextFrame(video);
      if (!this.running) break;
      if (video.readyState < 2 || video.videoWidth === 0 || this.framesPresented === processed) continue;
      processed = this.framesPresented;
      try {
        await this.processFrame(video);
      } catch (err) {
        this.lastError = `frame failed: ${(err as Error).message}`;
        this.emit();
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  private async processFrame(video: HTMLVideoElement): Promise<void> {
    const vision = this.vision;
    if (!vision) return;
    const capturedAt = performance.now();
    const bitmap = await createImageBitmap(video);
    const frame = { width: bitmap.width, height: bitmap.height };
    // Decide before detecting whether this frame may be sent, so the worker encodes its faces
    // right after finding them (one trip to the worker per frame).
    const welcome = this.connection.welcome;
    const encode =
      welcome && this.pacer.ready(capturedAt)
        ? {
            margin: this.settings.margin,
            cropSide: Math.min(this.settings.cropSide, welcome.limits.maxCropSide),
            maxFaces: welcome.limits.maxFacesPerFrame,
            format: this.settings.format,
            quality: this.settings.quality,
          }
        : undefined;
    const reply = await vision.process(bitmap, encode); // the bitmap is the worker's now
    if (!this.running) return; // stopped meanwhile: leave the cleared state alone
    const now = performance.now();
    this.detectMs.add(reply.detectMs);
    this.detectRate.tick(now);
    const ids = this.tracker.update(
      reply.detections.map((d) => d.box),
      now,
    );
    this.book.keepOnly(new Set(this.tracker.tracks.map((t) => t.id)));
    this.frame = frame;
    this.detections = reply.detections.map((det, i) => ({ det, id: ids[i] }));
    if (reply.encodeError) this.lastError = `encoding failed: ${reply.encodeError}`;
    if (reply.encoded) this.send(reply.encoded, ids, capturedAt);
    this.emit();
  }

  private send(encoded: EncodedFaces, trackIds: number[], capturedAt: number): void {
    if (encoded.format !== this.settings.format) {
      this.lastError = `this browser cannot encode ${this.settings.format}; sending ${encoded.format}`;
      this.settings = { ...this.settings, format: encoded.format };
    }
    const frameId = this.nextFrameId++;
    const ok = this.connection.sendFrame({
      frameId,
      capturedAt: performance.timeOrigin + capturedAt,
      faces: encoded.crops.map((crop, i) => ({ crop, box: encoded.regions[i] })),
    });
    if (!ok) return;
    const now = performance.now();
    this.pacer.sent(frameId, now, capturedAt);
    this.sent.set(frameId, { trackIds: encoded.faceIndex.map((i) => trackIds[i]) });
    this.sentRate.tick(now);
    this.counts.framesSent++;
  }

  // ── server messages ──────────────────────────────────────────────────────────────────

  private onConnection(state: ConnectionState): void {
    if (state.kind !== 'open') {
      this.counts.unanswered += this.sent.size;
      this.sent.clear();
      this.pacer.reset();
    } else {
      this.pacer.options = { ...this.pacer.options, maxFps: this.maxFps() };
    }
    this.emit();
  }

  private onResult(r: ResultMessage): void {
    const now = performance.now();
    const answer = this.pacer.answered(
      r.frameId,
      now,
      Math.max(0, r.timings.total - r.timings.queue),
      r.dropped,
    );
    const sent = this.sent.get(r.frameId);
    this.sent.delete(r.frameId);
    for (const id of answer?.skipped ?? []) this.sent.delete(id);
    if (!answer || !sent) return;
    this.rtt.add(answer.rttMs);
    this.resultRate.tick(now);
    for (const k of ['queue', 'decode', 'preprocess', 'inference', 'total'] as const)
      this.server[k].add(r.timings[k]);
    this.counts.results++;
    this.counts.droppedByServer += r.dropped;
    this.counts.lostMessages += r.lostMessages;
    this.counts.batchSize = r.batchSize;
    const live = new Set(this.tracker.tracks.map((t) => t.id));
    r.faces.forEach((face, i) => {
      const id = sent.trackIds[i];
      if (id !== undefined && live.has(id)) this.book.onResult(id, face, now);
    });
    this.emit();
  }

  private onServerError(e: ErrorMessage): void {
    this.counts.errors++;
    this.lastError = `server: ${e.code}: ${e.message}`;
    if (e.frameId !== undefined) {
      this.pacer.failed(e.frameId, e.code === 'rate-limited');
      this.sent.delete(e.frameId);
    }
    this.emit();
  }

  // ── view ─────────────────────────────────────────────────────────────────────────────

  private maxFps(): number {
    const limit = this.connection.welcome?.limits.maxFps ?? Number.POSITIVE_INFINITY;
    // Stay a little under the server's sustained limit so bursts never trip it.
    return Math.min(this.settings.maxFps, limit * 0.9);
  }

  private countCameraFrames(video: HTMLVideoElement): void {
    const tick = () => {
      if (this.video !== video) return;
      this.framesPresented++;
      this.cameraRate.tick(performance.now());
      schedule();
    };
    const schedule = () =>
      'requestVideoFrameCallback' in video
        ? video.requestVideoFrameCallback(tick)
        : requestAnimationFrame(tick);
    schedule();
  }

  private emit(): void {
    if (this.emitScheduled || this.listeners.size === 0) return;
    this.emitScheduled = true;
    const run = () => {
      this.emitScheduled = false;
      const view = this.view();
      for (const l of this.listeners) l(view);
    };
    if (typeof requestAnimationFrame === 'function' && document.visibilityState === 'visible')
      requestAnimationFrame(run);
    else setTimeout(run, 50);
  }

  view(): LiveView {
    const now = performance.now();
    const classes = this.connection.welcome?.classes ?? [];
    const faces: LiveFace[] = this.tracker.tracks
      .map((t) => {
        const det = this.detections.find((d) => d.id === t.id);
        const state = this.book.get(t.id);
        const shown = state ? (this.settings.smoothing ? state.smoothed : state.raw) : undefined;
        const { label, confidence } = shown ? labelOf(shown.ensemble, classes) : { label: '', confidence: 0 };
        return {
          id: t.id,
          box: t.box,
          score: det?.det.score ?? 0,
          missed: t.missed,
          state,
          shown,
          label,
          confidence,
        };
      })
      .sort((a, b) => a.id - b.id);
    const selectedId =
      this.selected !== undefined && faces.some((f) => f.id === this.selected)
        ? this.selected
        : faces.find((f) => f.state)?.id;
    const q = (p: RollingPercentiles) => p.quantile(0.5);
    return {
      camera: this.camera,
      detector: this.detectorStatus,
      connection: this.connection.state,
      welcome: this.connection.welcome,
      frame: this.frame,
      faces,
      selectedId,
      timeline: selectedId !== undefined ? [...(this.book.get(selectedId)?.history ?? [])] : [],
      lastError: this.lastError,
      cropFormat: this.settings.format,
      hud: {
        cameraFps: this.cameraRate.rate(now),
        detectFps: this.detectRate.rate(now),
        detectMsP50: q(this.detectMs),
        sentFps: this.sentRate.rate(now),
        resultFps: this.resultRate.rate(now),
        rttP50: this.rtt.quantile(0.5),
        rttP95: this.rtt.quantile(0.95),
        server: {
          queue: q(this.server.queue),
          decode: q(this.server.decode),
          preprocess: q(this.server.preprocess),
          inference: q(this.server.inference),
          total: q(this.server.total),
        },
        ...this.counts,
        sendIntervalMs: this.pacer.intervalMs,
        inFlight: this.pacer.waiting,
        facesNow: this.detections.length,
      },
    };
  }
}

/**
 * Resolves at the next decoded video frame (or animation frame where that API is missing), or
 * after 250 ms: a paused or detached video delivers no frame, and the loop must still see that
 * it was stopped.
 */
function nextFrame(video: HTMLVideoElement): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 250);
    const done = () => {
      clearTimeout(timer);
      resolve();
    };
    if ('requestVideoFrameCallback' in video) video.requestVideoFrameCallback(done);
    else requestAnimationFrame(done);
  });
}
