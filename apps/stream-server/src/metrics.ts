// Prometheus text exposition (format 0.0.4) for /metrics: counters, gauges and histograms
// with labels. Small on purpose; a registry is an object per server, never module state.

type Labels = Record<string, string>;

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
  );
  return parts.length ? `{${parts.join(',')}}` : '';
}

function key(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort());
}

interface Metric {
  render(): string[];
}

export class Counter implements Metric {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    const entry = this.values.get(k);
    if (entry) entry.value += by;
    else this.values.set(k, { labels, value: by });
  }

  get(labels: Labels = {}): number {
    return this.values.get(key(labels))?.value ?? 0;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.values.size === 0) lines.push(`${this.name} 0`);
    for (const { labels, value } of this.values.values())
      lines.push(`${this.name}${labelText(labels)} ${value}`);
    return lines;
  }
}

/** A value read when scraped. */
export class Gauge implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => number | Array<{ labels: Labels; value: number }>,
  ) {}

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    const v = this.read();
    const rows = typeof v === 'number' ? [{ labels: {}, value: v }] : v;
    for (const { labels, value } of rows) lines.push(`${this.name}${labelText(labels)} ${value}`);
    return lines;
  }
}

export class Histogram implements Metric {
  private readonly series = new Map<
    string,
    { labels: Labels; counts: number[]; sum: number; count: number }
  >();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: number[],
  ) {}

  observe(value: number, labels: Labels = {}): void {
    const k = key(labels);
    let s = this.series.get(k);
    if (!s) {
      s = { labels, counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]) s.counts[i]++;
    s.sum += value;
    s.count++;
  }

  count(labels: Labels = {}): number {
    return this.series.get(key(labels))?.count ?? 0;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const { labels, counts, sum, count } of this.series.values()) {
      this.buckets.forEach((le, i) =>
        lines.push(`${this.name}_bucket${labelText({ ...labels, le: String(le) })} ${counts[i]}`),
      );
      lines.push(`${this.name}_bucket${labelText({ ...labels, le: '+Inf' })} ${count}`);
      lines.push(`${this.name}_sum${labelText(labels)} ${sum}`);
      lines.push(`${this.name}_count${labelText(labels)} ${count}`);
    }
    return lines;
  }
}

export class Registry {
  private readonly metrics: Metric[] = [];

  add<T extends Metric>(metric: T): T {
    this.metrics.push(metric);
    return metric;
  }

  render(): string {
    return `${this.metrics.flatMap((m) => m.render()).join('\n')}\n`;
  }
}

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH = [1, 2, 4, 8, 16, 32, 64, 128];

/** The server's metrics; gauges read live state through `live`. */
export function serverMetrics(live: {
  sessions: () => number;
  memory: () => { tensors: number; bytes: number; gpuBytes: number | null };
  uptimeSeconds: () => number;
}) {
  const r = new Registry();
  return {
    registry: r,
    framesReceived: r.add(
      new Counter('affect_frames_received_total', 'Frame messages received (valid or not).'),
    ),
    framesProcessed: r.add(
      new Counter('affect_frames_processed_total', 'Frames whose result was handed to the socket.'),
    ),
    faces: r.add(new Counter('affect_faces_processed_total', 'Faces classified.')),
    dropped: r.add(
      new Counter(
        'affect_frames_dropped_total',
        'Frames dropped unprocessed; reason: queue (latest wins), closed (session gone).',
      ),
    ),
    lostMessages: r.add(
      new Counter(
        'affect_messages_lost_total',
        'Messages to clients dropped because their socket was backed up.',
      ),
    ),
    errors: r.add(new Counter('affect_errors_total', 'Error messages sent to clients, by code.')),
    sessionsOpened: r.add(new Counter('affect_sessions_opened_total', 'WebSocket sessions opened.')),
    batchFaces: r.add(new Histogram('affect_batch_faces', 'Faces per inference batch.', BATCH)),
    batchFrames: r.add(new Histogram('affect_batch_frames', 'Frames per inference batch.', BATCH)),
    latency: r.add(new Histogram('affect_frame_latency_seconds', 'Frame arrival to result sent.', SECONDS)),
    stage: r.add(new Histogram('affect_stage_seconds', 'Time per pipeline stage and batch.', SECONDS)),
    sessions: r.add(new Gauge('affect_sessions', 'Open sessions.', live.sessions)),
    tensors: r.add(new Gauge('affect_tf_tensors', 'tfjs tensors alive.', () => live.memory().tensors)),
    tensorBytes: r.add(
      new Gauge('affect_tf_bytes', 'Bytes held by tfjs tensors.', () => live.memory().bytes),
    ),
    gpuBytes: r.add(
      new Gauge(
        'affect_gpu_bytes',
        'GPU memory tfjs holds (0 on the wasm path).',
        () => live.memory().gpuBytes ?? 0,
      ),
    ),
    uptime: r.add(
      new Gauge('affect_uptime_seconds', 'Seconds since the server started.', live.uptimeSeconds),
    ),
  };
}

export type ServerMetrics = ReturnType<typeof serverMetrics>;
