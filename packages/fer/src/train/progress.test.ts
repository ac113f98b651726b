import { describe, expect, it } from 'vitest';
import { ProgressLine, formatDuration, progressBar } from './progress.ts';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { isTTY, writes, write: (text: string) => writes.push(text) };
}

describe('progressBar', () => {
  it("is training's line: label, 24-wide bar, step/total, fields", () => {
    const fields = { loss: '1.5188', acc: '0.232', 'img/s': '48.2', eta: formatDuration(275) };
    expect(progressBar('resnetv2 epoch 1/8', 23, 230, fields)).toBe(
      'resnetv2 epoch 1/8 [##......................] 23/230 loss 1.5188  acc 0.232  img/s 48.2  eta 4m35s',
    );
    expect(progressBar('x', 0, 0, {})).toBe(`x [${'#'.repeat(24)}] 0/0 `);
  });
});

describe('ProgressLine', () => {
  it('off a terminal prints one line per tenth of the work, the last one included', () => {
    const out = fakeStream(false);
    const line = new ProgressLine(out);
    for (let step = 1; step <= 230; step++) line.update(step, 230, `step ${step}`);
    line.done();
    expect(out.writes).toEqual([1, 23, 46, 69, 92, 115, 138, 161, 184, 207, 230].map((s) => `step ${s}\n`));
  });

  it('on a terminal redraws at most every 100 ms, always draws 100% once, and clears', () => {
    const out = fakeStream(true);
    let t = 1000;
    const line = new ProgressLine(out, () => t);
    for (const [ms, done] of [
      [0, 1],
      [50, 2],
      [120, 3],
      [130, 10],
      [131, 10],
    ]) {
      t = 1000 + ms;
      line.update(done, 10, `${done}/10`);
    }
    expect(out.writes).toEqual(['\r\x1b[2K1/10', '\r\x1b[2K3/10', '\r\x1b[2K10/10']);
    line.clear();
    expect(out.writes.at(-1)).toBe('\r\x1b[2K');
  });

  it('done keeps the last line on a terminal; clear writes nothing when nothing was drawn', () => {
    const kept = fakeStream(true);
    new ProgressLine(kept).done();
    expect(kept.writes).toEqual(['\n']);
    const cleared = fakeStream(true);
    new ProgressLine(cleared).clear();
    expect(cleared.writes).toEqual([]);
  });
});
