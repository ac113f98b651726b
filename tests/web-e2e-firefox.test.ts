// The web client in Firefox (Debian's firefox-esr, headless, driven over WebDriver BiDi by
// puppeteer-core), against the real stream server and the production build of the web app.
// Firefox has no file-backed fake camera: its fake camera (media.navigator.streams.fake) is a
// synthetic picture without a face, so the camera path is checked for frames flowing through
// detection, and faces, results and overlays are checked with a real face video played through
// the page's video-file source. Also audits accessibility with axe-core and saves a screenshot
// and the measured rates under test-results/.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import puppeteer, { type Browser, type ElementHandle, type Page } from 'puppeteer-core';
import { repoRoot } from '@affect/fer';
import { hasFfmpeg, requireModels, requireOrSkip, VIDEO } from './support/stream.ts';
import { axeSource, runAxeInPage, startStack, stopStack, testVideo, type Stack } from './support/web.ts';

const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
const ready =
  requireModels() !== undefined &&
  requireOrSkip(existsSync(VIDEO) && hasFfmpeg(), `franck.mp4 or ffmpeg missing (${VIDEO})`) &&
  requireOrSkip(
    existsSync(FIREFOX),
    `no Firefox at ${FIREFOX} (apt-get install firefox-esr, or set FIREFOX_PATH)`,
  );

const root = repoRoot();
const results = join(root, 'test-results');

/** Polls `read` until `ok` holds for its value; fails with the last value after `timeoutMs`. */
async function until<T>(
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

function attr(page: Page, selector: string, name: string): Promise<string | null> {
  return page.$eval(selector, (el, n) => el.getAttribute(n), name);
}

async function numberAttr(page: Page, testId: string, name: string): Promise<number> {
  return Number(await attr(page, `[data-testid="${testId}"]`, name));
}

function text(page: Page, selector: string): Promise<string> {
  return page.$eval(selector, (el) => (el as HTMLElement).innerText);
}

async function clickButton(page: Page, label: string): Promise<void> {
  const buttons = await page.$$('button');
  for (const b of buttons) {
    if ((await b.evaluate((el) => el.textContent?.trim())) === label) {
      await b.click();
      return;
    }
  }
  throw new Error(`no button labelled ${label}`);
}

describe.skipIf(!ready)('web client in headless Firefox', () => {
  let work: string;
  let stack: Stack | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let webm: string;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'affect-web-firefox-'));
    mkdirSync(results, { recursive: true });
    webm = testVideo(join(work, 'franck.webm'), 'webm');
    stack = await startStack();
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX,
      headless: true,
      userDataDir: join(work, 'profile'),
      extraPrefsFirefox: {
        // A fake camera that needs no permission prompt.
        'media.navigator.streams.fake': true,
        'media.navigator.permission.disabled': true,
        // No network but loopback: no update, telemetry or safe-browsing traffic.
        'app.update.enabled': false,
        'datareporting.policy.dataSubmissionEnabled': false,
        'browser.safebrowsing.update.enabled': false,
      },
    });
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    page.on('pageerror', (e) => {
      pageErrors.push(String(e));
      console.warn(`page error: ${String(e)}`);
    });
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    stopStack(stack);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('opens the camera, picks a detector backend and runs detection on its frames', async () => {
    await page.goto(stack!.webUrl);
    expect(await browser!.version()).toMatch(/^firefox\//i);
    await until(
      () => attr(page, '[data-testid="connection"]', 'data-state'),
      (s) => s === 'open',
      60_000,
      'the stream connection',
    );
    const camera = () => attr(page, '[data-camera]', 'data-camera');
    await new Promise((r) => setTimeout(r, 1000));
    if ((await camera()) === 'off') await clickButton(page, 'Start camera').catch(() => {}); // it may have started by itself
    await until(camera, (s) => s === 'on', 30_000, 'the camera');
    expect(await attr(page, '[data-camera]', 'data-source')).toBe('camera');

    const backend = await until(
      () => attr(page, '[data-testid="detector-backend"]', 'data-backend'),
      (b) => /^(wasm|webgl|webgpu)$/.test(b ?? ''),
      120_000,
      'the detector backend',
    );
    expect(await text(page, '[data-testid="detector-backend"]')).toMatch(
      /(only candidate|fastest of) \(?\w+ [\d.]+ ms/,
    );
    console.log(`Firefox detector backend: ${backend}`);
    await until(
      () => numberAttr(page, 'camera-fps', 'data-value'),
      (v) => v > 1,
      30_000,
      'camera frames',
    );
    await until(
      () => numberAttr(page, 'detect-fps', 'data-value'),
      (v) => v > 0.5,
      60_000,
      'detection on camera frames',
    );
  }, 300_000);

  test('plays a video file, detects the face, streams crops and shows labels, bars, timeline and HUD', async () => {
    const input = (await page.$('#video-file')) as ElementHandle<HTMLInputElement>;
    await input.uploadFile(webm);
    await until(
      async () =>
        `${await attr(page, '[data-camera]', 'data-camera')} ${await attr(page, '[data-camera]', 'data-source')}`,
      (s) => s === 'on file',
      30_000,
      'the video file playing',
    );

    await until(
      () => numberAttr(page, 'result-fps', 'data-count'),
      (n) => n > 10,
      120_000,
      'results',
    );
    const label = await until(
      () => attr(page, 'svg.overlay g.face', 'data-label'),
      (l) => /^(happy|sad|surprise|neutral)$/.test(l ?? ''),
      30_000,
      'a labelled face box',
    );
    expect(label).toBeTruthy();
    expect(await page.$eval('[data-testid="overlay-summary"]', (el) => el.textContent)).toMatch(
      /Face \d+: (happy|sad|surprise|neutral) \d+%/,
    );
    const box = await (await page.$('svg.overlay g.face rect'))!.boundingBox();
    expect(box!.width).toBeGreaterThan(50);

    const models = (await text(page, '[data-testid="server-backend"]'))
      .match(/models ([\w, ]+) ·/)![1]
      .split(', ');
    const heads = await page.$$eval('.card thead th', (ths) =>
      ths.map((th) => (th as HTMLElement).innerText),
    );
    expect(heads.slice(0, 2 + models.length)).toEqual(['Class', 'Ensemble', ...models]);
    const bars = await page.$eval('.card', (card) => card.querySelectorAll('[data-testid="bar"]').length);
    expect(bars).toBe(4 * (1 + models.length));
    await until(
      () => attr(page, 'figure.timeline svg', 'data-points').then(Number),
      (n) => n > 2,
      30_000,
      'timeline points',
    );

    const t0 = Date.now();
    const results0 = await numberAttr(page, 'result-fps', 'data-count');
    await new Promise((r) => setTimeout(r, 15_000));
    const seconds = (Date.now() - t0) / 1000;
    const measured = {
      browser: await browser!.version(),
      resultsPerSecond: ((await numberAttr(page, 'result-fps', 'data-count')) - results0) / seconds,
      videoFps: await numberAttr(page, 'camera-fps', 'data-value'),
      detectFps: await numberAttr(page, 'detect-fps', 'data-value'),
      detectMsP50: await numberAttr(page, 'detect-fps', 'data-ms'),
      roundTripP50Ms: await numberAttr(page, 'rtt', 'data-p50'),
      roundTripP95Ms: await numberAttr(page, 'rtt', 'data-p95'),
      droppedByServer: await numberAttr(page, 'dropped', 'data-server'),
      detectorBackend: await attr(page, '[data-testid="detector-backend"]', 'data-backend'),
      serverTimings: await text(page, '[data-testid="server-timings"]'),
    };
    await page.screenshot({ path: join(results, 'web-e2e-firefox.png'), fullPage: true });
    writeFileSync(
      join(results, 'web-e2e-firefox.json'),
      `${JSON.stringify({ measuredAt: new Date().toISOString(), seconds, ...measured }, null, 2)}\n`,
    );
    console.log(
      `web e2e (headless Firefox, video file, ${seconds.toFixed(1)} s): ${JSON.stringify(measured)}`,
    );
    expect(measured.resultsPerSecond).toBeGreaterThan(1);
    expect(measured.roundTripP95Ms).toBeGreaterThanOrEqual(measured.roundTripP50Ms);
    expect(pageErrors).toEqual([]);
  }, 400_000);

  test('the live page passes an axe-core WCAG 2.1 AA audit and fits a phone screen', async () => {
    await page.addScriptTag({ content: axeSource() });
    const violations = await page.evaluate(runAxeInPage);
    expect(violations, JSON.stringify(violations, null, 2)).toEqual([]);
    await page.setViewport({ width: 390, height: 844 });
    await new Promise((r) => setTimeout(r, 500));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.setViewport({ width: 1280, height: 900 });
  }, 120_000);

  test('a file it cannot play gets a clear message and the page keeps working', async () => {
    const bogus = join(work, 'not-a-video.webm');
    writeFileSync(bogus, 'this is text, not a video\n');
    const input = (await page.$('#video-file')) as ElementHandle<HTMLInputElement>;
    await input.uploadFile(bogus);
    const message = await until(
      () => text(page, '[data-testid="camera-error"]'),
      (m) => m.length > 0,
      30_000,
      'the error message',
    );
    expect(message).toContain('not-a-video.webm');
    expect(message).toMatch(/(cannot play|could not be played).*Try an MP4/);
    expect(await attr(page, '[data-testid="connection"]', 'data-state')).toBe('open');
  }, 60_000);

  test('the model page renders models/REPORT.md with its figures', async () => {
    await page.goto(`${stack!.webUrl}/models`);
    if (existsSync(join(root, 'models/REPORT.md'))) {
      expect(await text(page, 'h1')).toMatch(/report/i);
      expect((await page.$$('article table')).length).toBeGreaterThan(0);
      await until(
        () =>
          page.$$eval(
            'article img',
            (imgs) => imgs.length > 0 && imgs.every((i) => (i as HTMLImageElement).naturalWidth > 0),
          ),
        (ok) => ok,
        30_000,
        'the report figures',
      );
    } else {
      expect(await text(page, 'h1')).toBe('No report yet');
    }
  }, 60_000);
});
