// What the user can change on the live page (persisted in localStorage by the page).
import { DEFAULT_MARGIN } from './crop/crop.ts';
import type { CropFormat } from './encode/format.ts';
import { DEFAULT_TAU_MS } from './track/faces.ts';

export interface LiveSettings {
  smoothing: boolean;
  tauMs: number;
  /** Crop margin around the detector's box (fraction of its side, each side). */
  margin: number;
  format: CropFormat;
  quality: number;
  /** Largest side of an encoded crop, px. */
  cropSide: number;
  /** Cap on frames sent per second. */
  maxFps: number;
}

export const DEFAULT_SETTINGS: LiveSettings = {
  smoothing: true,
  tauMs: DEFAULT_TAU_MS,
  margin: DEFAULT_MARGIN,
  format: 'image/jpeg',
  quality: 0.9,
  cropSide: 96,
  maxFps: 30,
};
