// What the Chromium (playwright-core) and Firefox (puppeteer-core) end-to-end tests check on the
// live page, written once against the one call both drivers share: running a self-contained
// function in the page with one serialisable argument (page.evaluate).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { axeSource, runAxeInPage, type AxeViolation } from './web.ts';

/** page.evaluate of either driver: `fn` is serialised, so it may use only its argument. */
export type InPage = <R, A>(fn: (arg: A) => R | Promise<R>, arg: A) => Promise<R>;

export const CLASS_LABEL = /^(happy|sad|surprise|neutral)$/;

/** Polls `read` until `ok` holds for its value; fails with the last value after `timeoutMs`. */
export async function until<T>(
  read: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await read();
      if (ok(last)) return last;
    } catch (err) {
      lastError = err; // the element is not there yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}; last value ${JSON.stringify(last)}${lastError ? `, last error ${String(lastError)}` : ''}`,
  );
}

/** An attribute of the first element matching `selector`; throws if there is none. */
export function attr(run: InPage, selector: string, name: string): Promise<string | null> {
  return run(
    ([s, n]) => {
      const el = document.querySelector(s);
      if (!el) throw new Error(`no element ${s}`);
      return el.getAttribute(n);
    },
    [selector, name],
  );
}

/** The rendered text of the first element matching `selector`; throws if there is none. */
export function text(run: InPage, selector: string): Promise<string> {
  return run((s) => {
    const el = document.querySelector(s);
    if (!el) throw new Error(`no element ${s}`);
    return (el as HTMLElement).innerText;
  }, selector);
}

export async function numberAttr(run: InPage, testId: string, name: string): Promise<number> {
  return Number(await attr(run, `[data-testid="${testId}"]`, name));
}

/** Results received so far (the HUD's counter). */
export function resultCount(run: InPage): Promise<number> {
  return numberAttr(run, 'result-fps', 'data-count');
}

/** "on camera", "on file" or "off …": the video stage's state and source. */
export async function stageState(run: InPage): Promise<string> {
  return `${await attr(run, '[data-camera]', 'data-camera')} ${await attr(run, '[data-camera]', 'data-source')}`;
}

export async function waitForConnection(run: InPage, timeoutMs = 60_000): Promise<void> {
  await until(
    () => attr(run, '[data-testid="connection"]', 'data-state'),
    (s) => s === 'open',
    timeoutMs,
    'the stream connection',
  );
}

/** Waits for the detector's backend choice and checks that the page says why. */
export async function detectorBackend(run: InPage): Promise<string> {
  const backend = await until(
    () => attr(run, '[data-testid="detector-backend"]', 'data-backend'),
    (b) => /^(wasm|webgl|webgpu)$/.test(b ?? ''),
    120_000,
    'the detector backend',
  );
  expect(await text(run, '[data-testid="detector-backend"]')).toMatch(
    /(only candidate|fastest of) \(?\w+ [\d.]+ ms/,
  );
  return backend!;
}

/** Waits for more than `after` results, then for a face box labelled with one of the classes. */
export async function waitForLabelledFace(run: InPage, after: number, timeoutMs: number): Promise<string> {
  await until(
    () => resultCount(run),
    (n) => n > after,
    timeoutMs,
    `more than ${after} results`,
  );
  return (await until(
    () => attr(run, 'svg.overlay g.face', 'data-label'),
    (l) => CLASS_LABEL.test(l ?? ''),
    30_000,
    'a labelled face box',
  ))!;
}

/**
 * The live view of a labelled face: the overlay's box and summary, per-face bars for the
 * ensemble and every model the server announced, the timeline and the server line.
 */
export async function expectLiveView(run: InPage): Promise<void> {
  expect(await text(run, '[data-testid="overlay-summary"]')).toMatch(
    /Face \d+: (happy|sad|surprise|neutral) \d+%/,
  );
  const boxWidth = await run(
    (s) => document.querySelector(s)?.getBoundingClientRect().width ?? 0,
    'svg.overlay g.face rect',
  );
  expect(boxWidth).toBeGreaterThan(50); // his face fills about half the frame height

  const server = await text(run, '[data-testid="server-backend"]');
  expect(server).toMatch(/^(wasm|webgpu) · models/);
  const models = server.match(/models ([\w, ]+) ·/)![1].split(', ');
  expect(models.length).toBeGreaterThan(0);
  const card = await run((s) => {
    const el = document.querySelector(s)!;
    return {
      heads: Array.from(el.querySelectorAll('thead th'), (th) => (th as HTMLElement).innerText),
      bars: el.querySelectorAll('[data-testid="bar"]').length,
    };
  }, '.card');
  expect(card.heads.slice(0, 2 + models.length)).toEqual(['Class', 'Ensemble', ...models]);
  expect(card.bars).toBe(4 * (1 + models.length));
  await until(
    () => attr(run, 'figure.timeline svg', 'data-points').then(Number),
    (n) => n > 2,
    30_000,
    'timeline points',
  );
}

/** Rates and latencies over `seconds` of steady streaming, as the page's HUD reports them. */
export async function measureStreaming(run: InPage, seconds = 15) {
  const t0 = Date.now();
  const results0 = await resultCount(run);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const elapsed = (Date.now() - t0) / 1000;
  const measured = {
    seconds: elapsed,
    resultsPerSecond: ((await resultCount(run)) - results0) / elapsed,
    cameraFps: await numberAttr(run, 'camera-fps', 'data-value'), // frames of the camera or video file
    detectFps: await numberAttr(run, 'detect-fps', 'data-value'),
    detectMsP50: await numberAttr(run, 'detect-fps', 'data-ms'),
    roundTripP50Ms: await numberAttr(run, 'rtt', 'data-p50'),
    roundTripP95Ms: await numberAttr(run, 'rtt', 'data-p95'),
    droppedByServer: await numberAttr(run, 'dropped', 'data-server'),
    detectorBackend: await attr(run, '[data-testid="detector-backend"]', 'data-backend'),
    serverTimings: await text(run, '[data-testid="server-timings"]'),
  };
  expect(measured.resultsPerSecond).toBeGreaterThan(1);
  expect(measured.roundTripP50Ms).toBeGreaterThan(0);
  expect(measured.roundTripP95Ms).toBeGreaterThanOrEqual(measured.roundTripP50Ms);
  return measured;
}

/**
 * axe-core's WCAG 2.1 AA audit of the page finds nothing, and at a phone's width nothing
 * overflows sideways. `addScript` is the driver's page.addScriptTag with inline content;
 * `resize` sets the viewport, which is put back to 1280x900 after; `atPhoneWidth` (a
 * screenshot, say) runs while it is narrow.
 */
export async function expectAccessible(
  run: InPage,
  addScript: (content: string) => Promise<unknown>,
  resize: (width: number, height: number) => Promise<void>,
  atPhoneWidth?: () => Promise<unknown>,
): Promise<void> {
  await addScript(axeSource());
  const violations: AxeViolation[] = await run(runAxeInPage, undefined);
  expect(violations, JSON.stringify(violations, null, 2)).toEqual([]);
  await resize(390, 844);
  await new Promise((r) => setTimeout(r, 500));
  const overflow = await run(() => document.documentElement.scrollWidth - window.innerWidth, undefined);
  await atPhoneWidth?.();
  await resize(1280, 900);
  expect(overflow).toBeLessThanOrEqual(0);
}

/** The model page (already opened) renders models/REPORT.md with its figures loaded. */
export async function expectModelPage(run: InPage, root: string): Promise<void> {
  if (!existsSync(join(root, 'models/REPORT.md'))) {
    expect(await text(run, 'h1')).toBe('No report yet');
    return;
  }
  expect(await text(run, 'h1')).toMatch(/report/i);
  expect(await run((s) => document.querySelectorAll(s).length, 'article table')).toBeGreaterThan(0);
  await until(
    () =>
      run((s) => {
        const imgs = Array.from(document.querySelectorAll(s)) as HTMLImageElement[];
        return imgs.length > 0 && imgs.every((i) => i.naturalWidth > 0);
      }, 'article img'),
    (ok) => ok,
    30_000,
    'the report figures',
  );
}
