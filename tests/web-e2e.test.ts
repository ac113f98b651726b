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
  attr,
  detectorBackend,
  expectAccessible,
  expectLiveView,
  expectModelPage,
  measureStreaming,
  resultCount,
  stageState,
  until,
  waitForConnection,
  waitForLabelledFace,
  type InPage,
} from './support/web-page.ts';
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

describe.skipIf(!ready)('web client in headless Chromium', () => {
  let work: string;
  let stack: Stack | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let run: InPage;
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
    run = (fn, arg) => page.evaluate(fn as (a: unknown) => unknown, arg) as Promise<never>;
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
    await waitForConnection(run);
    const cameraState = () => attr(run, '[data-camera]', 'data-camera');
    await page.waitForTimeout(1000);
    if ((await cameraState()) === 'off') {
      await page
        .locator('.camera-off button', { hasText: 'Start camera' })
        .click({ timeout: 5000 })
        .catch(() => {}); // it started by itself meanwhile
    }
    await until(cameraState, (s) => s === 'on', 30_000, 'the camera');

    await detectorBackend(run);
    await waitForLabelledFace(run, 10, 120_000);
    await expectLiveView(run);

    const measured = await measureStreaming(run);
    await page.screenshot({ path: join(results, 'web-e2e.png'), fullPage: true });
    writeFileSync(
      join(results, 'web-e2e.json'),
      `${JSON.stringify({ measuredAt: new Date().toISOString(), ...measured }, null, 2)}\n`,
    );
    console.log(`web e2e (headless Chromium, fake camera): ${JSON.stringify(measured)}`);
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
    const before = await resultCount(run);
    await until(
      () => resultCount(run),
      (n) => n > before + 5,
      60_000,
      'results after the restart',
    );
  }, 300_000);

  test('the live page passes an axe-core WCAG 2.1 AA audit and fits a phone screen', async () => {
    // The audit itself finds problems: a page with an image without alt text fails it.
    const probe = await browser!.newPage();
    await probe.setContent('<html lang="en"><title>probe</title><main><img src="data:,"></main></html>');
    await probe.addScriptTag({ content: axeSource() });
    expect((await probe.evaluate(runAxeInPage)).map((v) => v.id)).toContain('image-alt');
    await probe.close();

    await expectAccessible(
      run,
      (content) => page.addScriptTag({ content }),
      (width, height) => page.setViewportSize({ width, height }),
      () => page.screenshot({ path: join(results, 'web-e2e-phone.png'), fullPage: true }),
    );
  }, 120_000);

  test('plays a video file instead of the camera and labels its face', async () => {
    const before = await resultCount(run);
    await page.locator('#video-file').setInputFiles(webm);
    await until(
      () => stageState(run),
      (s) => s === 'on file',
      30_000,
      'the video file playing',
    );
    await waitForLabelledFace(run, before + 5, 60_000);
    // A file is never mirrored (the overlay would be misplaced if the video were).
    expect(await attr(run, 'video', 'class')).not.toMatch(/mirror/);
    await page.getByRole('button', { name: 'Stop video' }).click();
    await until(
      () => attr(run, '[data-camera]', 'data-camera'),
      (s) => s === 'off',
      10_000,
      'the video to stop',
    );
  }, 180_000);

  test('the model page renders models/REPORT.md with its figures', async () => {
    await page.goto(`${stack!.webUrl}/models`);
    await expectModelPage(run, root);
  }, 60_000);
});
