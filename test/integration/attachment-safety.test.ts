import { deflateSync, crc32 } from 'node:zlib';
import { connect } from 'node:net';
import { PDFDocument, PDFName, PDFString } from 'pdf-lib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttachmentWire } from '../../src/shared/wire.js';
import type { TestApp } from '../support/app.js';
import { multipart, photo, sendWith, upload } from '../support/attachments.js';
import {
  buildAcceptedAppointment,
  startMessagingApp,
  type AcceptedAppointment,
} from '../support/factories.js';

const codeOf = (res: { json: <T>() => T }) => res.json<{ code: string }>().code;

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A PNG that claims 30,000 × 30,000 pixels in a few hundred bytes: a decompression bomb. */
function pixelBomb(): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(30_000, 0);
  ihdr.writeUInt32BE(30_000, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale
  const rows = deflateSync(Buffer.alloc(30_001 * 4));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', rows),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

async function pdfWith(change: (doc: PDFDocument) => Promise<void> | void): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage([200, 200]);
  await change(doc);
  return Buffer.from(await doc.save());
}

describe('attachment refusals', () => {
  let t: TestApp;
  let chat: AcceptedAppointment;
  const send = (name: string, type: string, bytes: Buffer) =>
    upload(t, chat.patientClient, chat.roomId, name, type, bytes);

  beforeAll(async () => {
    t = await startMessagingApp({ env: { ATTACHMENT_MAX_MB: '10' } });
    chat = await buildAcceptedAppointment(t);
  });
  afterAll(() => t.stop());

  it('refuses an SVG, as itself or named .png', async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>',
    );
    for (const [name, type] of [
      ['x.svg', 'image/svg+xml'],
      ['x.png', 'image/png'],
    ] as const) {
      const res = await send(name, type, svg);
      expect(res.statusCode).toBe(415);
      expect(codeOf(res)).toBe('unsupported_media_type');
    }
  });

  it('refuses an HTML page named .png', async () => {
    const res = await send(
      'report.png',
      'image/png',
      Buffer.from('<!doctype html><html><body><script>fetch("/api/rooms")</script></body></html>'),
    );
    expect(res.statusCode).toBe(415);
    expect(codeOf(res)).toBe('unsupported_media_type');
  });

  it('refuses polyglots: a JPEG carrying a script, a JPEG that is also a ZIP', async () => {
    const jpeg = await photo();
    const script = Buffer.from('<script>alert(document.cookie)</script>');
    const comment = Buffer.concat([Buffer.from([0xff, 0xfe, 0, script.length + 2]), script]);
    const withScript = Buffer.concat([jpeg.subarray(0, 2), comment, jpeg.subarray(2)]);
    // Still a valid JPEG to the image library:
    expect((await sharp(withScript).metadata()).format).toBe('jpeg');
    const res = await send('a.jpg', 'image/jpeg', withScript);
    expect(res.statusCode).toBe(415);
    expect(codeOf(res)).toBe('unsupported_media_type');

    const emptyZip = Buffer.concat([Buffer.from('PK\x05\x06', 'latin1'), Buffer.alloc(18)]);
    const zipped = await send('b.jpg', 'image/jpeg', Buffer.concat([jpeg, emptyZip]));
    expect(zipped.statusCode).toBe(415);
    expect(codeOf(zipped)).toBe('unsupported_media_type');
  });

  it('refuses a type that disagrees with the declared type or the name', async () => {
    const png = await sharp(await photo())
      .png()
      .toBuffer();
    expect((await send('a.jpg', 'image/jpeg', png)).statusCode).toBe(415);
    expect((await send('a.jpg', 'image/png', png)).statusCode).toBe(415);
    expect((await send('a.png', 'application/octet-stream', png)).statusCode).toBe(415);
    expect((await send('a', 'image/png', png)).statusCode).toBe(415);
    expect((await send('a.png', 'image/png', png)).statusCode).toBe(201);
  });

  it('refuses PDFs with JavaScript, launch actions, embedded files or a password', async () => {
    const js = await pdfWith((doc) => {
      const action = doc.context.obj({ S: 'JavaScript', JS: PDFString.of('app.alert(1)') });
      doc.catalog.set(PDFName.of('OpenAction'), doc.context.register(action));
    });
    const launch = await pdfWith((doc) => {
      const action = doc.context.obj({ S: 'Launch', F: PDFString.of('cmd.exe') });
      doc.catalog.set(PDFName.of('OpenAction'), doc.context.register(action));
    });
    const embedded = await pdfWith((doc) =>
      doc.attach(Buffer.from('hello'), 'notes.txt', { mimeType: 'text/plain' }),
    );
    for (const [bytes, title] of [
      [js, /JavaScript/],
      [launch, /programs/],
      [embedded, /files inside/],
    ] as const) {
      const res = await send('doc.pdf', 'application/pdf', bytes);
      expect(res.statusCode, res.body).toBe(422);
      expect(codeOf(res)).toBe('pdf_active_content');
      expect(res.json<{ title: string }>().title).toMatch(title);
    }
    const encrypted = await pdfWith((doc) => {
      const dict = doc.context.obj({ Filter: 'Standard', V: 1, R: 2, P: -4 });
      doc.context.trailerInfo.Encrypt = doc.context.register(dict);
    });
    const res = await send('locked.pdf', 'application/pdf', encrypted);
    expect(res.statusCode).toBe(422);
    expect(codeOf(res)).toBe('pdf_encrypted');
    expect(
      (await send('notes.pdf', 'application/pdf', Buffer.from('%PDF-1.7\n%%EOF'))).statusCode,
    ).toBe(422);
  });

  it('refuses a pixel bomb before decoding it', async () => {
    const bomb = pixelBomb();
    expect(bomb.length).toBeLessThan(10_000);
    const res = await send('bomb.png', 'image/png', bomb);
    expect(res.statusCode).toBe(422);
    expect(codeOf(res)).toBe('image_too_large');
  });

  it('keeps names harmless: paths, CR/LF and 300 characters', async () => {
    const jpeg = await photo();
    const cases = [
      ['../../etc/passwd.jpg', 'passwd.jpg'],
      ['..\\..\\boot.jpg', 'boot.jpg'],
      ['scan\t\u202Egpj.exe.jpg', 'scangpj.exe.jpg'],
    ] as const;
    for (const [name, expected] of cases) {
      const res = await send(name, 'image/jpeg', jpeg);
      expect(res.statusCode, res.body).toBe(201);
      const a = res.json<AttachmentWire>();
      expect(a.name).toBe(expected);
      await sendWith(chat.patientClient, chat.roomId, [a.id]);
      const got = await chat.practitionerClient.get(a.url);
      expect(got.statusCode).toBe(200);
      expect(got.headers['set-cookie']).toBeUndefined();
      expect(String(got.headers['content-disposition'])).not.toMatch(/[\r\n]/);
    }
    // A line break in a part's file name makes the parser drop the part: nothing is stored.
    const before = await t.services.store.db
      .selectFrom('attachments')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const crlf = await send('a\r\nSet-Cookie: carechat_session=x\r\n.jpg', 'image/jpeg', jpeg);
    expect(crlf.statusCode).toBe(400);
    expect(crlf.headers['set-cookie']).toBeUndefined();
    const after = await t.services.store.db
      .selectFrom('attachments')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));

    const long = `${'é'.repeat(300)}.jpg`;
    const res = await send(long, 'image/jpeg', jpeg);
    expect(res.statusCode).toBe(201);
    const a = res.json<AttachmentWire>();
    expect([...a.name].length).toBeLessThanOrEqual(200);
    expect(a.name.endsWith('.jpg')).toBe(true);
    const got = await chat.patientClient.get(a.url);
    expect(got.headers['content-disposition']).toContain(
      `filename*=UTF-8''${encodeURIComponent('é')}`,
    );
  });

  it('refuses an announced 11 MB upload with 413 before reading it', async () => {
    const form = multipart('big.jpg', 'image/jpeg', Buffer.alloc(11 * 1024 * 1024));
    const res = await t.app.inject({
      method: 'POST',
      url: `/api/rooms/${chat.roomId}/attachments`,
      headers: {
        cookie: chat.patientClient.cookie,
        'x-csrf-token': chat.patientClient.csrfToken,
        origin: t.services.config.publicOrigin,
        'content-type': form.contentType,
      },
      payload: form.body,
    });
    expect(res.statusCode).toBe(413);
    expect(codeOf(res)).toBe('file_too_large');
  });
});

describe('an oversized upload streamed without a length', () => {
  it('is answered 413 while the client is still sending', async () => {
    const t = await startMessagingApp({ listen: true, env: { ATTACHMENT_MAX_MB: '10' } });
    try {
      const chat = await buildAcceptedAppointment(t);
      const form = multipart('big.jpg', 'image/jpeg', Buffer.alloc(0));
      const { port } = new URL(t.url);
      const socket = connect(Number(port), '127.0.0.1');
      await new Promise<void>((resolve) => socket.once('connect', resolve));
      let answer = '';
      const answered = new Promise<string>((resolve) => {
        socket.on('data', (d: Buffer) => {
          answer += d.toString('latin1');
          if (answer.includes('\r\n\r\n')) resolve(answer);
        });
      });
      socket.on('error', () => undefined);
      const hungUp = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      const writeChunk = (b: Buffer) =>
        new Promise<void>((resolve) =>
          socket.write(
            Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]),
            () => resolve(),
          ),
        );
      socket.write(
        [
          `POST /api/rooms/${chat.roomId}/attachments HTTP/1.1`,
          `Host: 127.0.0.1:${port}`,
          `Cookie: ${chat.patientClient.cookie}`,
          `X-CSRF-Token: ${chat.patientClient.csrfToken}`,
          `Origin: ${t.services.config.publicOrigin}`,
          `Content-Type: ${form.contentType}`,
          'Transfer-Encoding: chunked',
          '',
          '',
        ].join('\r\n'),
      );
      await writeChunk(form.head);
      // 10.5 MB of a JPEG-looking file, and never the end of it: the server must not wait for more.
      const piece = Buffer.alloc(512 * 1024);
      piece.set([0xff, 0xd8, 0xff, 0xe0]);
      let sent = 0;
      let done = false;
      void answered.then(() => (done = true));
      while (!done && sent < 10.5 * 1024 * 1024) {
        // Once the server has answered it stops reading, so a write may never be flushed.
        await Promise.race([writeChunk(piece), answered]);
        sent += piece.length;
      }
      const head = await answered;
      expect(head.split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large');
      expect(head.toLowerCase()).toContain('connection: close');
      expect(sent).toBeLessThan(11 * 1024 * 1024);
      // The server hangs up rather than read the rest.
      await hungUp;
    } finally {
      await t.stop();
    }
  });
});
