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
import {
  attr,
  detectorBackend,
  expectAccessible,
  expectLiveView,
  expectModelPage,
  measureStreaming,
  numberAttr,
  stageState,
  text,
  until,
  waitForConnection,
  waitForLabelledFace,
  type InPage,
} from './support/web-page.ts';
import { startStack, stopStack, testVideo, type Stack } from './support/web.ts';

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
  let run: InPage;
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
    run = (fn, arg) => page.evaluate(fn as (a: unknown) => unknown, arg) as Promise<never>;
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
    await waitForConnection(run);
    const camera = () => attr(run, '[data-camera]', 'data-camera');
    await new Promise((r) => setTimeout(r, 1000));
    if ((await camera()) === 'off') await clickButton(page, 'Start camera').catch(() => {}); // it may have started by itself
    await until(camera, (s) => s === 'on', 30_000, 'the camera');
    expect(await attr(run, '[data-camera]', 'data-source')).toBe('camera');

    console.log(`Firefox detector backend: ${await detectorBackend(run)}`);
    await until(
      () => numberAttr(run, 'camera-fps', 'data-value'),
      (v) => v > 1,
      30_000,
      'camera frames',
    );
    await until(
      () => numberAttr(run, 'detect-fps', 'data-value'),
      (v) => v > 0.5,
      60_000,
      'detection on camera frames',
    );
  }, 300_000);

  test('plays a video file, detects the face, streams crops and shows labels, bars, timeline and HUD', async () => {
    const input = (await page.$('#video-file')) as ElementHandle<HTMLInputElement>;
    await input.uploadFile(webm);
    await until(
      () => stageState(run),
      (s) => s === 'on file',
      30_000,
      'the video file playing',
    );
    await waitForLabelledFace(run, 10, 120_000);
    await expectLiveView(run);

    const measured = { browser: await browser!.version(), ...(await measureStreaming(run)) };
    await page.screenshot({ path: join(results, 'web-e2e-firefox.png'), fullPage: true });
    writeFileSync(
      join(results, 'web-e2e-firefox.json'),
      `${JSON.stringify({ measuredAt: new Date().toISOString(), ...measured }, null, 2)}\n`,
    );
    console.log(`web e2e (headless Firefox, video file): ${JSON.stringify(measured)}`);
    expect(pageErrors).toEqual([]);
  }, 400_000);

  test('the live page passes an axe-core WCAG 2.1 AA audit and fits a phone screen', async () => {
    await expectAccessible(
      run,
      (content) => page.addScriptTag({ content }),
      (width, height) => page.setViewport({ width, height }),
    );
  }, 120_000);

  test('a file it cannot play gets a clear message and the page keeps working', async () => {
    const bogus = join(work, 'not-a-video.webm');
    writeFileSync(bogus, 'this is text, not a video\n');
    const input = (await page.$('#video-file')) as ElementHandle<HTMLInputElement>;
    await input.uploadFile(bogus);
    const message = await until(
      () => text(run, '[data-testid="camera-error"]'),
      (m) => m.length > 0,
      30_000,
      'the error message',
    );
    expect(message).toContain('not-a-video.webm');
    expect(message).toMatch(/(cannot play|could not be played).*Try an MP4/);
    expect(await attr(run, '[data-testid="connection"]', 'data-state')).toBe('open');
  }, 60_000);

  test('the model page renders models/REPORT.md with its figures', async () => {
    await page.goto(`${stack!.webUrl}/models`);
    await expectModelPage(run, root);
  }, 60_000);
});
