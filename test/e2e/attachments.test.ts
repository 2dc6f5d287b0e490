import { readFile } from 'node:fs/promises';
import { PDFDocument, rgb, StandardFonts } from 'pdf-lib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { MessageWire } from '../../src/shared/wire.js';
import { TEST_PASSWORD } from '../support/app.js';
import { screenshot, seriousViolations, signIn, useBrowser, watchErrors } from './browser.js';
import { buildPractice, messagesIn } from './fixtures.js';

/** A photo with real pixels: a red square on blue, so the thumbnail is more than one colour. */
async function rashPhoto(): Promise<Buffer> {
  const width = 640;
  const height = 480;
  const raw = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const x = i % width;
    const y = Math.floor(i / width);
    const inside = x > 200 && x < 440 && y > 120 && y < 360;
    raw[i * 3] = inside ? 210 : 40;
    raw[i * 3 + 1] = inside ? 60 : 90;
    raw[i * 3 + 2] = inside ? 50 : 200;
  }
  return sharp(raw, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
}

async function labReport(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const title of ['Full blood count', 'Lipid panel']) {
    const page = doc.addPage([595, 842]);
    page.drawText(title, { x: 60, y: 760, size: 28, font });
    page.drawRectangle({
      x: 60,
      y: 600,
      width: 300,
      height: 80,
      borderWidth: 3,
      borderColor: rgb(0.1, 0.2, 0.5),
      color: rgb(0.85, 0.9, 1),
    });
  }
  return Buffer.from(await doc.save());
}

describe('attachments in the browser', () => {
  const { server, open } = useBrowser();

  it('a patient on a phone sends a photo and a PDF; the practitioner sees them live, views and downloads', async () => {
    const practice = await buildPractice(server.app, {
      patient: 'Grace Hopper',
      practitioner: 'Ada Byron',
      specialty: 'Dermatology',
    });
    const photo = await rashPhoto();
    const pdf = await labReport();

    const patient = await open();
    await patient.setViewportSize({ width: 390, height: 844 });
    const practitioner = await open();
    const patientErrors = watchErrors(patient);
    const practitionerErrors = watchErrors(practitioner);
    const patientConsole: string[] = [];
    const practitionerConsole: string[] = [];
    patient.on('console', (m) => m.type() === 'error' && patientConsole.push(m.text()));
    practitioner.on('console', (m) => m.type() === 'error' && practitionerConsole.push(m.text()));

    await signIn(patient, practice.patient.email, TEST_PASSWORD);
    await signIn(practitioner, practice.practitioner.email, TEST_PASSWORD);
    await patient.goto(`/chat/room/${practice.roomId}/`);
    await practitioner.goto(`/chat/room/${practice.roomId}/`);
    await practitioner.getByLabel('Message to Grace Hopper').waitFor();

    // A slow uplink, as on a phone outdoors, so the upload is seen in progress.
    const cdp = await patient.context().newCDPSession(patient);
    await cdp.send('Network.enable');
    const uplink = (bytesPerSecond: number) =>
      cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput: bytesPerSecond,
      });
    await uplink(1024);

    // The paperclip opens the system picker; both files are chosen at once.
    const [chooser] = await Promise.all([
      patient.waitForEvent('filechooser'),
      patient.getByRole('button', { name: 'Attach files' }).click(),
    ]);
    await chooser.setFiles([
      { name: 'rash.jpg', mimeType: 'image/jpeg', buffer: photo },
      { name: 'Blood results.pdf', mimeType: 'application/pdf', buffer: pdf },
    ]);

    const chips = patient.getByRole('list', { name: 'Files to send' });
    await chips.getByText('rash.jpg').waitFor();
    await chips.getByText('Blood results.pdf').waitFor();
    await chips.getByRole('button', { name: 'Remove rash.jpg' }).waitFor();
    await chips.getByRole('progressbar', { name: 'Uploading rash.jpg' }).waitFor();
    await screenshot(patient, 'attachments-uploading-phone');
    await uplink(-1);
    // The photo's chip shows the chosen picture itself, drawn by the browser.
    const thumb = chips.locator('img.chip-thumb');
    await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(640);
    // Each file shows its upload progress until the server has it.
    await expect
      .poll(async () => (await chips.getByText('Ready to send').count()) === 2, { timeout: 15_000 })
      .toBe(true);
    expect(await chips.getByRole('progressbar').count()).toBe(0);
    await screenshot(patient, 'attachments-chips-phone');

    await patient.getByLabel('Message to Ada Byron').fill('Here is the rash, and my lab results.');
    await patient.getByRole('button', { name: 'Send' }).click();
    await expect.poll(() => chips.count()).toBe(0);

    // The practitioner sees both arrive without reloading: the thumbnail and the PDF card.
    const log = practitioner.getByRole('log', { name: 'Messages' });
    await log.getByText('Here is the rash, and my lab results.').waitFor();
    const open_ = log.getByRole('button', { name: 'Open photo rash.jpg' });
    await open_.waitFor();
    await expect
      .poll(() =>
        open_.locator('img').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth),
      )
      .toBeGreaterThan(0);
    const card = log.getByRole('article', { name: 'PDF Blood results.pdf' });
    await card.getByText('2 pages', { exact: false }).waitFor();
    // pdf.js drew the first page: the canvas is shown and holds something other than white.
    const firstPage = card.getByRole('img', { name: 'First page of Blood results.pdf' });
    await firstPage.waitFor({ timeout: 15_000 });
    const inked = await firstPage.evaluate((c: HTMLCanvasElement) => {
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let dark = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i]! < 128) dark++;
      return dark;
    });
    expect(inked).toBeGreaterThan(50);

    // The viewer: opened by its label, the full-size photo inside, Escape closes it and
    // puts the focus back on the thumbnail.
    await open_.click();
    const viewer = practitioner.getByRole('dialog', { name: 'rash.jpg' });
    await viewer.waitFor();
    const full = viewer.getByRole('img', { name: 'Photo rash.jpg, full size' });
    await expect
      .poll(() => full.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth))
      .toBe(640);
    await practitioner.keyboard.press('Tab');
    expect(await viewer.evaluate((d) => d.contains(document.activeElement))).toBe(true);
    expect(await seriousViolations(practitioner)).toEqual([]);
    await screenshot(practitioner, 'attachments-viewer-desktop');
    await practitioner.keyboard.press('Escape');
    await viewer.waitFor({ state: 'hidden' });
    await expect.poll(() => open_.evaluate((b) => b === document.activeElement)).toBe(true);

    // The download is the very file the patient chose.
    const [file] = await Promise.all([
      practitioner.waitForEvent('download'),
      card.getByRole('link', { name: 'Download Blood results.pdf' }).click(),
    ]);
    expect(file.suggestedFilename()).toBe('Blood results.pdf');
    const saved = await file.path();
    expect((await readFile(saved)).equals(pdf)).toBe(true);

    // The patient's own thread shows the same, and nothing about the files stayed in storage.
    await patient
      .getByRole('log', { name: 'Messages' })
      .getByRole('button', { name: 'Open photo rash.jpg' })
      .waitFor();
    await screenshot(patient, 'attachments-thread-phone');
    const stored = await patient.evaluate(() =>
      JSON.stringify([{ ...localStorage }, { ...sessionStorage }]),
    );
    expect(stored).not.toContain('rash');
    expect(stored).not.toContain('Blood results');

    const messages: MessageWire[] = await messagesIn(practice.practitionerApi, practice.roomId);
    expect(messages.at(-1)?.attachments?.map((a) => a.name)).toEqual([
      'rash.jpg',
      'Blood results.pdf',
    ]);
    expect(patientErrors).toEqual([]);
    expect(practitionerErrors).toEqual([]);
    // A CSP refusal (of the pdf.js worker, say) shows up as a console error.
    expect(practitionerConsole.filter((m) => /Content Security Policy/i.test(m))).toEqual([]);
    expect(patientConsole.filter((m) => /Content Security Policy/i.test(m))).toEqual([]);
  }, 90_000);

  it('a refused file says why and can be retried or removed; a sixth is refused; drop and paste attach too', async () => {
    const practice = await buildPractice(server.app, {
      patient: 'Mary Somerville',
      practitioner: 'Lise Meitner',
    });
    const patient = await open();
    await signIn(patient, practice.patient.email, TEST_PASSWORD);
    await patient.goto(`/chat/room/${practice.roomId}/`);
    const [chooser] = await Promise.all([
      patient.waitForEvent('filechooser'),
      patient.getByRole('button', { name: 'Attach files' }).click(),
    ]);
    // An HTML page dressed as a photo: the server reads the bytes and refuses it.
    await chooser.setFiles([
      { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('<html><body>hi</body>') },
    ]);
    const chips = patient.getByRole('list', { name: 'Files to send' });
    await chips
      .getByText('This kind of file cannot be sent', { exact: false })
      .waitFor({ timeout: 15_000 });
    expect(await patient.getByRole('button', { name: 'Send' }).isDisabled()).toBe(true);
    await chips.getByRole('button', { name: 'Retry' }).click();
    await chips.getByText('This kind of file cannot be sent', { exact: false }).waitFor();
    await chips.getByRole('button', { name: 'Remove notes.png' }).click();
    await expect.poll(() => chips.count()).toBe(0);

    // Six files: five are taken, the sixth is refused with the reason.
    const photo = await sharp({
      create: { width: 8, height: 8, channels: 3, background: '#884422' },
    })
      .jpeg()
      .toBuffer();
    const [six] = await Promise.all([
      patient.waitForEvent('filechooser'),
      patient.getByRole('button', { name: 'Attach files' }).click(),
    ]);
    await six.setFiles(
      Array.from({ length: 6 }, (_, i) => ({
        name: `p${i}.jpg`,
        mimeType: 'image/jpeg',
        buffer: photo,
      })),
    );
    await patient.getByText('A message can carry up to 5 files', { exact: false }).waitFor();
    await expect.poll(() => chips.getByRole('listitem').count()).toBe(5);
    await expect
      .poll(async () => chips.getByText('Ready to send').count(), { timeout: 15_000 })
      .toBe(5);
    await patient.getByRole('button', { name: 'Send' }).click();
    await expect
      .poll(
        async () => (await messagesIn(practice.patientApi, practice.roomId)).at(-1)?.attachments,
      )
      .toHaveLength(5);
    await expect.poll(() => chips.count()).toBe(0);

    // A file dropped on the conversation, and a screenshot pasted into the message box.
    const room = patient.getByRole('region', { name: 'Conversation with Lise Meitner' });
    const png = await sharp({
      create: { width: 12, height: 10, channels: 3, background: '#2255aa' },
    })
      .png()
      .toBuffer();
    const files = await patient.evaluateHandle((b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
      return dt;
    }, png.toString('base64'));
    await room.dispatchEvent('dragenter', { dataTransfer: files });
    await patient.getByText('Drop photos or PDFs to attach them').waitFor();
    await room.dispatchEvent('drop', { dataTransfer: files });
    await chips.getByText('dropped.png').waitFor();
    await patient.getByLabel('Message to Lise Meitner').evaluate((box, b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const dt = new DataTransfer();
      dt.items.add(new File([bytes], 'screenshot.png', { type: 'image/png' }));
      box.dispatchEvent(
        new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }),
      );
    }, png.toString('base64'));
    await chips.getByText('screenshot.png').waitFor();
    await expect
      .poll(async () => chips.getByText('Ready to send').count(), { timeout: 15_000 })
      .toBe(2);
    await patient.getByLabel('Message to Lise Meitner').press('Enter');
    await expect
      .poll(async () =>
        (await messagesIn(practice.patientApi, practice.roomId))
          .at(-1)
          ?.attachments?.map((a) => a.name),
      )
      .toEqual(['dropped.png', 'screenshot.png']);
  }, 60_000);
});
