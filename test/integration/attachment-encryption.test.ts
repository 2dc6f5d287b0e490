import { randomBytes } from 'node:crypto';
import { PDFDocument } from 'pdf-lib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttachmentWire } from '../../src/shared/wire.js';
import { masterKey } from '../../src/domain/attachments/file-crypto.js';
import { main as rotateDataKey } from '../../src/server/rotate-data-key.js';
import { createTestStore, type TestApp, type TestStore } from '../support/app.js';
import { photo, sendWith, upload } from '../support/attachments.js';
import { startS3, type TestS3 } from '../support/s3-server.js';
import { buildAcceptedAppointment, buildPatient, startMessagingApp } from '../support/factories.js';

const newKey = () => randomBytes(32).toString('base64');

async function samplePdf(): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage([300, 300]).drawText('Haemoglobin 13.2 g/dL');
  // Uncompressed, so the text would be plain to see in stored bytes that were not encrypted.
  return Buffer.from(await doc.save({ useObjectStreams: false }));
}

/** Uploads a photo and a PDF, and checks what the backend holds is not what was sent. */
async function storeBoth(t: TestApp) {
  const chat = await buildAcceptedAppointment(t);
  const image = await sharp(await photo({ width: 80, height: 60 }))
    .png()
    .toBuffer();
  const pdf = await samplePdf();
  const a = (
    await upload(t, chat.patientClient, chat.roomId, 'rash.png', 'image/png', image)
  ).json<AttachmentWire>();
  const p = (
    await upload(t, chat.practitionerClient, chat.roomId, 'labs.pdf', 'application/pdf', pdf)
  ).json<AttachmentWire>();
  await sendWith(chat.patientClient, chat.roomId, [a.id]);
  await sendWith(chat.practitionerClient, chat.roomId, [p.id]);
  const imageOut = (await chat.patientClient.get(a.url)).rawPayload;
  return { chat, a, p, pdf, imageOut };
}

describe.each([
  { backend: 'db', storage: async () => ({ url: 'db', stop: () => Promise.resolve() }) },
  {
    backend: 's3',
    storage: async () => {
      const s3: TestS3 = await startS3();
      return { url: s3.storageUrl, stop: () => s3.stop() };
    },
  },
])('attachments at rest with DATA_KEY ($backend)', ({ storage }) => {
  let store: TestStore;
  let s3: { url: string; stop: () => Promise<void> };
  const first = newKey();
  const second = newKey();
  beforeAll(async () => {
    store = await createTestStore();
    s3 = await storage();
  });
  afterAll(async () => {
    await s3.stop();
    await store.drop();
  });

  it('stores ciphertext, serves plaintext, and stays readable across a key rotation', async () => {
    let t = await startMessagingApp({ store, env: { DATA_KEY: first, STORAGE_URL: s3.url } });
    let ids: { a: AttachmentWire; p: AttachmentWire; pdf: Buffer; imageOut: Buffer };
    let users: {
      patient: Parameters<TestApp['login']>[0];
      practitioner: Parameters<TestApp['login']>[0];
    };
    try {
      const both = await storeBoth(t);
      ids = both;
      users = { patient: both.chat.patient.user, practitioner: both.chat.practitioner.user };
      const pdfRow = (await t.services.store.system().attachments.find(both.p.id))!;
      expect(pdfRow.key_id).toMatch(/^[0-9a-f]{16}$/);
      expect(pdfRow.wrapped_key?.length).toBe(60);
      const stored = (await t.services.blobs.get(pdfRow.blob_key))!;
      expect(stored.equals(both.pdf)).toBe(false);
      expect(stored.includes(Buffer.from('%PDF'))).toBe(false);
      expect(stored.includes(Buffer.from('Haemoglobin'))).toBe(false);
      const imageRow = (await t.services.store.system().attachments.find(both.a.id))!;
      const storedImage = (await t.services.blobs.get(imageRow.blob_key))!;
      expect(storedImage.includes(both.imageOut.subarray(0, 64))).toBe(false);
      const thumb = (await t.services.blobs.get(imageRow.thumb_key!))!;
      expect(thumb.subarray(0, 4).toString('latin1')).not.toBe('RIFF');
      const got = await both.chat.patientClient.get(both.p.url);
      expect(got.rawPayload.equals(both.pdf)).toBe(true);
    } finally {
      await t.stop();
    }

    // Rotation: the command re-wraps every data key under the new master key.
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (s: string) => (out.push(s), true);
    let code: number;
    try {
      code = await rotateDataKey({
        DATABASE_URL: store.url,
        DATA_KEY: second,
        DATA_KEY_PREVIOUS: first,
      });
    } finally {
      process.stdout.write = write;
    }
    expect(code).toBe(0);
    expect(out.join('')).toMatch(/2 file key\(s\) now wrapped/);

    // Only the new key now: every file still opens.
    t = await startMessagingApp({ store, env: { DATA_KEY: second, STORAGE_URL: s3.url } });
    try {
      const patient = await t.login(users.patient);
      const practitioner = await t.login(users.practitioner);
      expect((await patient.get(ids.p.url)).rawPayload.equals(ids.pdf)).toBe(true);
      expect((await practitioner.get(ids.a.url)).rawPayload.equals(ids.imageOut)).toBe(true);
      expect((await practitioner.get(ids.a.thumbnailUrl!)).statusCode).toBe(200);
      const row = (await t.services.store.system().attachments.find(ids.p.id))!;
      expect(row.key_id).toBe(masterKey(Buffer.from(second, 'base64')).id);
      const stranger = await buildPatient(t);
      expect((await stranger.client.get(ids.p.url)).statusCode).toBe(404);
    } finally {
      await t.stop();
    }
  });

  it('a rotation without the old key refuses and changes nothing', async () => {
    const code = await rotateDataKey({ DATABASE_URL: store.url, DATA_KEY: newKey() });
    expect(code).toBe(1);
    const t = await startMessagingApp({ store, env: { DATA_KEY: second, STORAGE_URL: s3.url } });
    try {
      const rows = await t.services.store.db.selectFrom('attachments').select('key_id').execute();
      expect(rows.length).toBeGreaterThan(0);
      const keyIds = new Set(rows.map((r) => r.key_id));
      expect(keyIds.size).toBe(1);
    } finally {
      await t.stop();
    }
  });
});
