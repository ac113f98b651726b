// The web client end to end, as a user runs it: the real stream server and the production
// build of the web app, opened in headless Chromium (Debian's, driven by playwright-core) whose
// fake camera plays franck.mp4. Asserts that faces are detected in the browser, crops go to the
// server, results come back and the overlays, bars, timeline and HUD render; that the page
// reconnects by itself when the server restarts; and that the model page renders the report.
// Saves a screenshot and the measured rates under test-results/.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { repoRoot } from '@affect/fer';
import { hasFfmpeg, requireModels, requireOrSkip, VIDEO } from './support/stream.ts';
import {
  axeSource,
  exited,
  runAxeInPage,
  startStack,
  startStreamServer,
  stopService,
  stopStack,
  testVideo,
  type Stack,
} from './support/web.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ready =
  requireModels() !== undefined &&
  requireOrSkip(existsSync(VIDEO) && hasFfmpeg(), `franck.mp4 or ffmpeg missing (${VIDEO})`) &&
  requireOrSkip(
    existsSync(CHROMIUM),
    `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
  );

const root = repoRoot();
const results = join(root, 'test-results');

async function numberAttr(page: Page, testId: string, attr: string): Promise<number> {
  return Number(await page.getByTestId(testId).getAttribute(attr));
}

describe.skipIf(!ready)('web client in headless Chromium', () => {
  let work: string;
  let stack: Stack | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let webm: string;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'affect-web-e2e-'));
    mkdirSync(results, { recursive: true });
    // The fake camera: 8 s of franck.mp4 as y4m (Chromium loops it); the same as WebM for the
    // video-file source.
    const y4m = testVideo(join(work, 'franck.y4m'), 'y4m');
    webm = testVideo(join(work, 'franck.webm'), 'webm');
    stack = await startStack();

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--enable-unsafe-webgpu',
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        `--use-file-for-fake-video-capture=${y4m}`,
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (e) => console.warn(`page error: ${e.message}`));
  }, 600_000);

  afterAll(async () => {
    await browser?.close();
    stopStack(stack);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('detects the face, streams crops, shows live labels, bars, timeline and HUD', async () => {
    await page.goto(stack!.webUrl);
    // With the fake-UI flag the camera permission counts as granted, so the page may start the
    // camera by itself; otherwise (or if that has not happened yet) press the button.
    await page
      .getByTestId('connection')
      .and(page.locator('[data-state="open"]'))
      .waitFor({ timeout: 60_000 });
    const cameraState = () => page.locator('[data-camera]').getAttribute('data-camera');
    await page.waitForTimeout(1000);
    if ((await cameraState()) === 'off') {
      await page
        .locator('.camera-off button', { hasText: 'Start camera' })
        .click({ timeout: 5000 })
        .catch(() => {}); // it started by itself meanwhile
    }
    await expect.poll(cameraState, { timeout: 30_000 }).toBe('on');

    // The detector's backend is chosen and shown, with why.
    const backend = page.getByTestId('detector-backend');
    await expect
      .poll(() => backend.getAttribute('data-backend'), { timeout: 120_000 })
      .toMatch(/^(wasm|webgl|webgpu)$/);
    expect(await backend.innerText()).toMatch(/(only candidate|fastest of) \(?\w+ [\d.]+ ms/);

    // Results arrive and the overlay labels the face with one of the server's classes.
    await expect
      .poll(() => numberAttr(page, 'result-fps', 'data-count'), { timeout: 120_000 })
      .toBeGreaterThan(10);
    const face = page.locator('svg.overlay g.face').first();
    await expect
      .poll(() => face.getAttribute('data-label'), { timeout: 30_000 })
      .toMatch(/^(happy|sad|surprise|neutral)$/);
    expect(await page.getByTestId('overlay-summary').textContent()).toMatch(
      /Face \d+: (happy|sad|surprise|neutral) \d+%/,
    );
    const box = await face.locator('rect').boundingBox();
    expect(box!.width).toBeGreaterThan(50); // his face fills about half the frame height

    // Per-face bars: ensemble + each model the server announced, for each class.
    const models = (await page.getByTestId('server-backend').innerText())
      .match(/models ([\w, ]+) ·/)![1]
      .split(', ');
    expect(models.length).toBeGreaterThan(0);
    const card = page.locator('.card').first();
    expect(await card.locator('thead th').allInnerTexts()).toEqual(['Class', 'Ensemble', ...models]);
    expect(await card.getByTestId('bar').count()).toBe(4 * (1 + models.length));
    expect(Number(await page.locator('figure.timeline svg').getAttribute('data-points'))).toBeGreaterThan(2);
    expect(await page.getByTestId('server-backend').innerText()).toMatch(/^(wasm|webgpu) · models/);

    // Measure over 15 s of steady streaming.
    const t0 = Date.now();
    const results0 = await numberAttr(page, 'result-fps', 'data-count');
    await page.waitForTimeout(15_000);
    const seconds = (Date.now() - t0) / 1000;
    const measured = {
      resultsPerSecond: ((await numberAttr(page, 'result-fps', 'data-count')) - results0) / seconds,
      cameraFps: await numberAttr(page, 'camera-fps', 'data-value'),
      detectFps: await numberAttr(page, 'detect-fps', 'data-value'),
      detectMsP50: await numberAttr(page, 'detect-fps', 'data-ms'),
      roundTripP50Ms: await numberAttr(page, 'rtt', 'data-p50'),
      roundTripP95Ms: await numberAttr(page, 'rtt', 'data-p95'),
      droppedByServer: await numberAttr(page, 'dropped', 'data-server'),
      detectorBackend: await backend.getAttribute('data-backend'),
      serverTimings: await page.getByTestId('server-timings').innerText(),
    };
    await page.screenshot({ path: join(results, 'web-e2e.png'), fullPage: true });
    writeFileSync(
      join(results, 'web-e2e.json'),
      `${JSON.stringify({ measuredAt: new Date().toISOString(), seconds, ...measured }, null, 2)}\n`,
    );
    console.log(`web e2e (headless Chromium, ${seconds.toFixed(1)} s): ${JSON.stringify(measured)}`);
    expect(measured.resultsPerSecond).toBeGreaterThan(1);
    expect(measured.roundTripP50Ms).toBeGreaterThan(0);
    expect(measured.roundTripP95Ms).toBeGreaterThanOrEqual(measured.roundTripP50Ms);
  }, 400_000);

  test('reconnects by itself when the stream server restarts', async () => {
    const connection = page.getByTestId('connection');
    stopService(stack!.server, 'SIGTERM');
    await exited(stack!.server);
    await expect
      .poll(() => connection.getAttribute('data-state'), { timeout: 30_000 })
      .toMatch(/^(waiting|connecting)$/);
    expect(await connection.innerText()).toMatch(/retrying in \d+ s|Reconnecting/);
    stack!.server = await startStreamServer(stack!.streamPort);
    await expect.poll(() => connection.getAttribute('data-state'), { timeout: 60_000 }).toBe('open');
    const before = await numberAttr(page, 'result-fps', 'data-count');
    await expect
      .poll(() => numberAttr(page, 'result-fps', 'data-count'), { timeout: 60_000 })
      .toBeGreaterThan(before + 5);
  }, 300_000);

  test('the live page passes an axe-core WCAG 2.1 AA audit and fits a phone screen', async () => {
    // The audit itself finds problems: a page with an image without alt text fails it.
    const probe = await browser!.newPage();
    await probe.setContent('<html lang="en"><title>probe</title><main><img src="data:,"></main></html>');
    await probe.addScriptTag({ content: axeSource() });
    expect((await probe.evaluate(runAxeInPage)).map((v) => v.id)).toContain('image-alt');
    await probe.close();

    await page.addScriptTag({ content: axeSource() });
    const violations = await page.evaluate(runAxeInPage);
    expect(violations, JSON.stringify(violations, null, 2)).toEqual([]);

    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(500);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    await page.screenshot({ path: join(results, 'web-e2e-phone.png'), fullPage: true });
    expect(overflow).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 900 });
  }, 120_000);

  test('plays a video file instead of the camera and labels its face', async () => {
    const before = await numberAttr(page, 'result-fps', 'data-count');
    await page.locator('#video-file').setInputFiles(webm);
    const stage = page.locator('[data-camera]');
    await expect
      .poll(
        async () => `${await stage.getAttribute('data-camera')} ${await stage.getAttribute('data-source')}`,
        {
          timeout: 30_000,
        },
      )
      .toBe('on file');
    await expect
      .poll(() => numberAttr(page, 'result-fps', 'data-count'), { timeout: 60_000 })
      .toBeGreaterThan(before + 5);
    await expect
      .poll(() => page.locator('svg.overlay g.face').first().getAttribute('data-label'), { timeout: 30_000 })
      .toMatch(/^(happy|sad|surprise|neutral)$/);
    // A file is never mirrored (the overlay would be misplaced if the video were).
    expect(await page.locator('video').getAttribute('class')).not.toMatch(/mirror/);
    await page.getByRole('button', { name: 'Stop video' }).click();
    await expect.poll(() => page.locator('[data-camera]').getAttribute('data-camera')).toBe('off');
  }, 180_000);

  test('the model page renders models/REPORT.md with its figures', async () => {
    await page.goto(`${stack!.webUrl}/models`);
    if (existsSync(join(root, 'models/REPORT.md'))) {
      expect(await page.locator('h1').first().innerText()).toMatch(/report/i);
      expect(await page.locator('article table').count()).toBeGreaterThan(0);
      const images = page.locator('article img');
      expect(await images.count()).toBeGreaterThan(0);
      await expect
        .poll(() => images.evaluateAll((imgs) => imgs.every((i) => (i as HTMLImageElement).naturalWidth > 0)))
        .toBe(true);
    } else {
      expect(await page.locator('h1').first().innerText()).toBe('No report yet');
    }
  }, 60_000);
});
