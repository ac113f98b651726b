// What the page knows about each tracked face: its latest probabilities from the server (per
// model and for the ensemble), their smoothed version, and a rolling history for the timeline.
// Results are attributed to faces by track ID: a frame's faces[i] answers the crop of the
// detection that had trackIds[i] when the frame was sent.
import type { FaceResult } from '@affect/protocol';
import { argmax, ProbabilitySmoother } from './smoothing.ts';

export interface FaceProbs {
  ensemble: number[];
  models: Record<string, number[]>;
}

export interface TimelinePoint {
  /** performance.now() of the result. */
  t: number;
  raw: number[];
  smoothed: number[];
}

export interface FaceState {
  id: number;
  raw: FaceProbs;
  smoothed: FaceProbs;
  resultAt: number;
  results: number;
  history: TimelinePoint[];
}

export const DEFAULT_TAU_MS = 400;

interface Entry {
  state: FaceState;
  ensemble: ProbabilitySmoother;
  models: Map<string, ProbabilitySmoother>;
}

export class FaceBook {
  private readonly entries = new Map<number, Entry>();

  constructor(
    private tau = DEFAULT_TAU_MS,
    private readonly historyMs = 30_000,
  ) {}

  get tauMs(): number {
    return this.tau;
  }

  set tauMs(value: number) {
    this.tau = value;
    for (const e of this.entries.values()) {
      e.ensemble.tauMs = value;
      for (const s of e.models.values()) s.tauMs = value;
    }
  }

  onResult(trackId: number, face: FaceResult, at: number): FaceState {
    let e = this.entries.get(trackId);
    if (!e) {
      e = {
        ensemble: new ProbabilitySmoother(this.tau),
        models: new Map(),
        state: {
          id: trackId,
          raw: { ensemble: [], models: {} },
          smoothed: { ensemble: [], models: {} },
          resultAt: at,
          results: 0,
          history: [],
        },
      };
      this.entries.set(trackId, e);
    }
    const smoothedModels: Record<string, number[]> = {};
    for (const [name, probs] of Object.entries(face.models)) {
      let s = e.models.get(name);
      if (!s) e.models.set(name, (s = new ProbabilitySmoother(this.tau)));
      smoothedModels[name] = s.update(probs, at);
    }
    const smoothedEnsemble = e.ensemble.update(face.ensemble, at);
    const st = e.state;
    st.raw = { ensemble: [...face.ensemble], models: { ...face.models } };
    st.smoothed = { ensemble: smoothedEnsemble, models: smoothedModels };
    st.resultAt = at;
    st.results++;
    st.history.push({ t: at, raw: st.raw.ensemble, smoothed: smoothedEnsemble });
    const from = at - this.historyMs;
    let drop = 0;
    while (drop < st.history.length && st.history[drop].t < from) drop++;
    if (drop) st.history.splice(0, drop);
    return st;
  }

  get(trackId: number): FaceState | undefined {
    return this.entries.get(trackId)?.state;
  }

  /** Forgets faces whose track ended. */
  keepOnly(liveIds: ReadonlySet<number>): void {
    for (const id of this.entries.keys()) if (!liveIds.has(id)) this.entries.delete(id);
  }

  clear(): void {
    this.entries.clear();
  }
}

/** The label and its probability for a probability vector. */
export function labelOf(
  probs: readonly number[],
  classes: readonly string[],
): { label: string; confidence: number } {
  if (probs.length === 0) return { label: '', confidence: 0 };
  const i = argmax(probs);
  return { label: classes[i] ?? `class ${i}`, confidence: probs[i] };
}
