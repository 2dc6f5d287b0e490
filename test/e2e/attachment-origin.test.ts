import { readFile } from 'node:fs/promises';
import { PDFDocument } from 'pdf-lib';
import { chromium, type Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/domain/clock.js';
import { createTestStore, startTestApp, TEST_PASSWORD, type TestApp } from '../support/app.js';
import type { TestStore } from '../support/app.js';
import { ensureBuilt, newContext, Relay, signIn, watchErrors } from './browser.js';
import { findBrowser } from './find-browser.js';
import { buildPractice } from './fixtures.js';

/**
 * ATTACHMENT_ORIGIN in a real browser: the app on chat.practice.test, files on
 * files.practice.test (both names resolved to 127.0.0.1 by Chromium itself), one process
 * behind one relay. Thumbnails, the PDF preview and the download all follow the redirect to
 * the files origin; the page's CSP, the files' CORP and CORS must all let exactly that through.
 */
describe('attachments from a separate origin, in the browser', () => {
  const relay = new Relay();
  let store: TestStore;
  let app: TestApp;
  let browser: Browser;
  let chat = '';
  let files = '';

  beforeAll(async () => {
    ensureBuilt(['web']);
    const port = new URL(await relay.listen()).port;
    chat = `http://chat.practice.test:${port}`;
    files = `http://files.practice.test:${port}`;
    store = await createTestStore();
    app = await startTestApp({
      listen: true,
      store,
      clock: systemClock,
      env: { PUBLIC_ORIGIN: chat, ATTACHMENT_ORIGIN: files, LOGIN_MAX_PER_IP: '1000' },
    });
    app.config.publicOrigin = chat;
    relay.point(Number(new URL(app.url).port));
    const choice = await findBrowser();
    browser = await chromium.launch({
      executablePath: choice.executablePath,
      headless: true,
      ...(choice.env ? { env: { ...process.env, ...choice.env } } : {}),
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--no-first-run',
        '--host-resolver-rules=MAP *.practice.test 127.0.0.1',
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await relay.close();
    await app?.stop();
    await store?.drop();
  });

  it('shows the thumbnail and the PDF preview, and downloads the PDF, all from the files origin', async () => {
    const practice = await buildPractice(app, { patient: 'Ida Wells', practitioner: 'Jo Baker' });
    const photo = await sharp({
      create: { width: 300, height: 200, channels: 3, background: '#aa3322' },
    })
      .jpeg()
      .toBuffer();
    const doc = await PDFDocument.create();
    doc.addPage([300, 400]).drawText('Referral letter', { x: 30, y: 340, size: 24 });
    const pdf = Buffer.from(await doc.save());

    const context = await newContext(browser, chat);
    const page = await context.newPage();
    const errors = watchErrors(page);
    const refused: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') refused.push(m.text());
    });
    const fileRequests: string[] = [];
    page.on('request', (r) => {
      if (r.url().startsWith(files)) fileRequests.push(new URL(r.url()).pathname);
    });

    await signIn(page, practice.patient.email, TEST_PASSWORD);
    await page.goto(`/chat/room/${practice.roomId}/`);
    const [chooser] = await Promise.all([
      page.waitForEvent('filechooser'),
      page.getByRole('button', { name: 'Attach files' }).click(),
    ]);
    await chooser.setFiles([
      { name: 'hand.jpg', mimeType: 'image/jpeg', buffer: photo },
      { name: 'referral.pdf', mimeType: 'application/pdf', buffer: pdf },
    ]);
    const chips = page.getByRole('list', { name: 'Files to send' });
    await expect
      .poll(async () => chips.getByText('Ready to send').count(), { timeout: 15_000 })
      .toBe(2);
    await page.getByRole('button', { name: 'Send' }).click();

    const log = page.getByRole('log', { name: 'Messages' });
    const thumb = log.getByRole('button', { name: 'Open photo hand.jpg' }).locator('img');
    await expect
      .poll(() => thumb.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), {
        timeout: 15_000,
      })
      .toBeGreaterThan(0);
    const card = log.getByRole('article', { name: 'PDF referral.pdf' });
    await card
      .getByRole('img', { name: 'First page of referral.pdf' })
      .waitFor({ timeout: 15_000 });

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      card.getByRole('link', { name: 'Download referral.pdf' }).click(),
    ]);
    expect((await readFile(await download.path())).equals(pdf)).toBe(true);

    // Every byte came from the files origin, not from the app's.
    expect(fileRequests.some((p) => p.endsWith('/thumbnail'))).toBe(true);
    expect(fileRequests.filter((p) => /^\/api\/attachments\/[^/]+$/.test(p)).length).toBe(2);
    expect(refused.filter((m) => /Content Security Policy|CORS|blocked/i.test(m))).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  }, 90_000);
});
