import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { image, readSplit } from '../data/index.ts';
import { requireSharedData } from '../data/testing.ts';
import { dataCommand } from './data.ts';
import { CliError } from './errors.ts';

const shared = requireSharedData();

/** Runs `fer data ...` and returns its exit code and stdout. */
async function fer(...argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = vi
    .spyOn(console, 'log')
    .mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return { code: await dataCommand.run(argv), out: lines.join('\n') };
  } finally {
    log.mockRestore();
    err.mockRestore();
  }
}

async function cliError(...argv: string[]): Promise<CliError> {
  const err = await fer(...argv).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(CliError);
  return err as CliError;
}

describe.skipIf(!shared)('fer data stats on the shared data', () => {
  it('prints the counts table, duplicates, blanks and leakage', async () => {
    const { code, out } = await fer('stats', '--data', shared!);
    expect(code).toBe(0);
    expect(out).toMatch(/^train\s+3976\s+3982\s+3173\s+3978\s+15109\s+1\.25$/m);
    expect(out).toMatch(/^test\s+32\s+32\s+32\s+32\s+128\s+1\.00$/m);
    expect(out).toContain('duplicate groups: 865 (562 within one split, 303 across splits)');
    expect(out).toContain('conflicting labels: 7 groups');
    expect(out).toContain('blank images: 3 (train 9131, train 13292, validation 2154)');
    expect(out).toContain('validation: 306 of 4977 images also in train');
    expect(out).toContain('test: 12 of 128 images also in train');
    expect(out).toContain('checksums: all 10 files match manifest.json');
  });

  it('--json gives the same numbers with the leaked indices', async () => {
    const { code, out } = await fer('stats', '--data', shared!, '--json');
    expect(code).toBe(0);
    const json = JSON.parse(out);
    expect(json.classes).toEqual(['happy', 'sad', 'surprise', 'neutral']);
    const testInTrain = json.leakage.find(
      (l: { split: string; alsoIn: string[] }) => l.split === 'test' && l.alsoIn.join() === 'train',
    );
    expect(testInTrain.count).toBe(12);
    expect(testInTrain.indices).toHaveLength(12);
    expect(json.blank).toHaveLength(3);
  });
});

describe('fer data arguments and errors', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fer-data-cli-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('prints help for the command and each subcommand', async () => {
    expect((await fer('--help')).out).toContain('import-folder');
    for (const sub of ['stats', 'import-folder', 'import-csv']) {
      const { code, out } = await fer(sub, '--help');
      expect(code).toBe(0);
      expect(out).toContain(`usage: fer data ${sub}`);
    }
  });

  it('turns usage mistakes into usage errors (exit 2) and data problems into exit 1', async () => {
    expect(await cliError()).toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('subcommand is required'),
    });
    expect(await cliError('frobnicate')).toMatchObject({ exitCode: 2 });
    expect(await cliError('stats')).toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('--data is required'),
    });
    expect(await cliError('stats', '--data', dir, '--nope')).toMatchObject({ exitCode: 2 });
    expect(await cliError('stats', '--data', join(dir, 'absent'))).toMatchObject({
      exitCode: 1,
      code: 'E_DATA_MISSING',
    });
    expect(
      await cliError('import-csv', '--src', 'x.csv', '--out', dir, '--classes', 'happy,,happy'),
    ).toMatchObject({
      exitCode: 1,
      code: 'E_DATA_CLASSES',
    });
  });

  it.skipIf(!shared)('imports a CSV, then stats reads the result', async () => {
    const faces = await readSplit(shared!, 'test');
    const rows = [0, 3, 4, 5, 6, 3].map(
      (emotion, k) =>
        `${emotion},${[...image(faces, 10 + k)].join(' ')},${k % 2 ? 'Training' : 'PublicTest'}`,
    );
    const src = join(dir, 'fer2013.csv');
    await writeFile(src, ['emotion,pixels,Usage', ...rows].join('\n'));
    const out = join(dir, 'fer4');
    const imported = await fer('import-csv', '--src', src, '--out', out);
    expect(imported.code).toBe(0);
    expect(imported.out).toContain('imported 5 images into');
    expect(imported.out).toContain('left out: 1 (class angry)');
    expect(await cliError('import-csv', '--src', src, '--out', out)).toMatchObject({
      code: 'E_DATA_OUT_EXISTS',
    });
    expect(
      (await fer('import-csv', '--src', src, '--out', out, '--force', '--classes', 'all')).out,
    ).toContain('0=angry');
    const stats = await fer('stats', '--data', out);
    expect(stats.code).toBe(0);
    expect(stats.out).toContain('classes: 0=angry, 1=disgust, 2=fear, 3=happy, 4=sad, 5=surprise, 6=neutral');
    expect(stats.out).toMatch(/validation: 0 of 3 images also in train/);
  });

  it('stats exits 1 when a file no longer matches manifest.json', async () => {
    const csv = join(dir, 'one.csv');
    await writeFile(
      csv,
      `emotion,pixels,Usage\n3,${Array.from({ length: 2304 }, (_, i) => (i * 7) % 256).join(' ')},Training\n`,
    );
    await fer('import-csv', '--src', csv, '--out', join(dir, 'd'));
    await writeFile(join(dir, 'd', 'train.labels.u8'), new Uint8Array([1]));
    const { code, out } = await fer('stats', '--data', join(dir, 'd'));
    expect(code).toBe(1);
    expect(out).toContain('train.labels.u8 (content differs)');
  });
});
