import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ARCHS, buildModel, DEFAULT_WIDTH } from '../packages/fer/src/models/architectures.ts';
import { loadModelFrom } from '../packages/fer/src/models/registry.ts';
import { useCpuBackend } from '../packages/fer/src/eval/predict.ts';
import { shippedOptions } from './train-step.ts';

describe('bench train-step', () => {
  it('builds each architecture as it ships: the same parameter count as models/<arch>', async () => {
    await useCpuBackend('cpu');
    for (const arch of ARCHS) {
      const shipped = await loadModelFrom(arch);
      const built = buildModel(arch, await shippedOptions(arch));
      expect(built.countParams()).toBe(shipped.model.countParams());
      built.dispose();
      shipped.model.dispose();
    }
  });

  it("takes a recipe's width and view, and the architecture's default where there is no record", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-models-'));
    mkdirSync(join(dir, 'cnn'));
    writeFileSync(
      join(dir, 'cnn', 'training.json'),
      JSON.stringify({ recipe: { width: 0.75, view: 'gradients' } }),
    );
    expect(await shippedOptions('cnn', dir)).toMatchObject({ width: 0.75, view: 'gradients' });
    expect(await shippedOptions('vgg16', dir)).toMatchObject({ width: DEFAULT_WIDTH.vgg16, view: undefined });
    expect((await shippedOptions('resnetv2', dir)).width).toBeUndefined();
  });
});
