// What the importers report back, shared so the CLI prints both the same way.
import type { FerManifest } from './manifest.ts';

export interface ImportProgress {
  phase: 'decode' | 'parse';
  done: number;
  total: number;
  /** What done/total count: decoded images, or bytes of a streamed file. */
  unit: 'images' | 'bytes';
}

export type OnProgress = (progress: ImportProgress) => void;

export interface SkippedFile {
  file: string;
  reason: string;
}

export interface ImportSummary {
  out: string;
  classes: readonly string[];
  splits: Array<{ split: string; n: number; perClass: number[] }>;
  /** Images not imported on purpose, by reason ("class angry", "corrupt image"). */
  leftOut: Record<string, number>;
  /** Files that could not be decoded, each with the decoder's reason. */
  skipped: SkippedFile[];
  manifest: FerManifest;
}

export function summarise(manifest: FerManifest, out: string, skipped: SkippedFile[] = []): ImportSummary {
  return {
    out,
    classes: manifest.classes,
    splits: Object.entries(manifest.splits).map(([split, s]) => ({
      split,
      n: s.total,
      perClass: manifest.classes.map((c) => s.per_class[c]),
    })),
    leftOut: manifest.source?.left_out ?? {},
    skipped,
    manifest,
  };
}
