// The face detector's weight files, as shipped in the @vladmandic/human npm package. The app
// serves them from node_modules (routes/detector/[file]); nothing is copied into the repo.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { io } from '@tensorflow/tfjs-core';

/** The files the browser may ask for, and their content types. */
export const DETECTOR_FILES: Record<string, string> = {
  'blazeface.json': 'application/json',
  'blazeface.bin': 'application/octet-stream',
};

/** The package's models folder. Its exports map hides package.json, so resolve the main entry. */
export function detectorModelsDir(): string {
  const main = createRequire(import.meta.url).resolve('@vladmandic/human'); // <pkg>/dist/human.node.js
  return join(dirname(dirname(main)), 'models');
}

export async function readDetectorFile(name: string): Promise<Uint8Array<ArrayBuffer> | undefined> {
  if (!Object.hasOwn(DETECTOR_FILES, name)) return undefined;
  return new Uint8Array(await readFile(join(detectorModelsDir(), name)));
}

interface ModelJson {
  modelTopology: object;
  weightsManifest: { paths: string[]; weights: io.WeightsManifestEntry[] }[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
}

/** An IOHandler that loads BlazeFace from the package's files (Node: tests and tools). */
export function detectorIOHandler(): io.IOHandler {
  return {
    async load() {
      const dir = detectorModelsDir();
      const json = JSON.parse(await readFile(join(dir, 'blazeface.json'), 'utf8')) as ModelJson;
      const buffers = await Promise.all(
        json.weightsManifest.flatMap((group) => group.paths.map((p) => readFile(join(dir, p)))),
      );
      const total = Buffer.concat(buffers);
      return {
        modelTopology: json.modelTopology,
        weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
        weightData: total.buffer.slice(total.byteOffset, total.byteOffset + total.byteLength),
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy ?? undefined,
      };
    },
  };
}
