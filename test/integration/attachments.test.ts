import { randomUUID } from 'node:crypto';
import exifr from 'exifr';
import sharp from 'sharp';
import { PDFDocument } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttachmentWire, MessageWire } from '../../src/shared/wire.js';
import type { TestApp } from '../support/app.js';
import { photo, sendWith, upload } from '../support/attachments.js';
import { WsClient } from '../support/ws-client.js';
import {
  auditRows,
  buildAcceptedAppointment,
  buildAdmin,
  buildPatient,
  type AcceptedAppointment,
} from '../support/factories.js';
import { HOUR, manualClock, startMessagingApp } from '../support/factories.js';

async function pdf(pages = 2): Promise<Buffer> {
  const doc = await PDFDocument.create();
  for (let i = 0; i < pages; i++) doc.addPage([200, 200]).drawText(`Page ${i + 1}`);
  return Buffer.from(await doc.save());
}

describe('attachments', () => {
  let t: TestApp;
  let chat: AcceptedAppointment;
  beforeAll(async () => {
    t = await startMessagingApp();
    chat = await buildAcceptedAppointment(t);
  });
  afterAll(() => t.stop());

  it('a GPS-tagged JPEG comes back upright, re-encoded, without EXIF or GPS', async () => {
    const original = await photo({ width: 64, height: 48, gps: true, orientation: 6 });
    const tags = (await exifr.gps(original)) as { latitude: number } | undefined;
    expect(tags?.latitude).toBeCloseTo(51.5, 1);

    const res = await upload(
      t,
      chat.patientClient,
      chat.roomId,
      'rash.jpg',
      'image/jpeg',
      original,
    );
    expect(res.statusCode, res.body).toBe(201);
    const a = res.json<AttachmentWire>();
    expect(a).toMatchObject({ kind: 'image', contentType: 'image/jpeg', name: 'rash.jpg' });
    // Orientation 6 is a quarter turn: the stored image is taller than wide.
    expect([a.width, a.height]).toEqual([48, 64]);

    await sendWith(chat.patientClient, chat.roomId, [a.id]);
    const got = await chat.practitionerClient.get(a.url);
    expect(got.statusCode).toBe(200);
    const bytes = got.rawPayload;
    expect(bytes.equals(original)).toBe(false);
    expect(await exifr.parse(bytes, true)).toBeUndefined();
    expect(await exifr.gps(bytes)).toBeUndefined();
    const meta = await sharp(bytes).metadata();
    expect(meta.exif).toBeUndefined();
    expect(meta.xmp).toBeUndefined();
    expect(meta.icc).toBeUndefined();
    expect(meta.orientation).toBeUndefined();
    expect(got.headers['content-disposition']).toBe(`inline; filename="rash.jpg"`);
    expect(got.headers['x-content-type-options']).toBe('nosniff');
    expect(got.headers['content-security-policy']).toBe("sandbox; default-src 'none'");
    expect(got.headers['cross-origin-resource-policy']).toBe('same-origin');
    expect(got.headers['cache-control']).toBe('private, no-store');

    const thumb = await chat.patientClient.get(a.thumbnailUrl!);
    expect(thumb.statusCode).toBe(200);
    expect(thumb.headers['content-type']).toBe('image/webp');
    expect((await sharp(thumb.rawPayload).metadata()).exif).toBeUndefined();

    const audit = await auditRows(t, { action: 'attachment.upload', targetId: a.id });
    expect(audit.some((r) => r.target_id === a.id && r.actor_id === chat.patient.user.id)).toBe(
      true,
    );
    const reads = await auditRows(t, { action: 'attachment.read', targetId: a.id });
    expect(
      reads.some((r) => r.target_id === a.id && r.actor_id === chat.practitioner.user.id),
    ).toBe(true);
  });

  it('a PDF keeps its bytes, is offered as a download, and reports its pages', async () => {
    const original = await pdf(3);
    const res = await upload(
      t,
      chat.practitionerClient,
      chat.roomId,
      'Lab results.pdf',
      'application/pdf',
      original,
    );
    expect(res.statusCode, res.body).toBe(201);
    const a = res.json<AttachmentWire>();
    expect(a).toMatchObject({ kind: 'pdf', pages: 3, size: original.length });
    expect(a.thumbnailUrl).toBeUndefined();
    await sendWith(chat.practitionerClient, chat.roomId, [a.id]);
    const got = await chat.patientClient.get(a.url);
    expect(got.rawPayload.equals(original)).toBe(true);
    expect(got.headers['content-type']).toBe('application/pdf');
    expect(got.headers['content-disposition']).toBe('attachment; filename="Lab results.pdf"');
  });

  it('a message carries its uploads; the same upload cannot go on two messages', async () => {
    const a = (
      await upload(
        t,
        chat.patientClient,
        chat.roomId,
        'a.png',
        'image/png',
        await sharp(await photo())
          .png()
          .toBuffer(),
      )
    ).json<AttachmentWire>();
    const clientId = randomUUID();
    const sent = await chat.patientClient.post(`/api/rooms/${chat.roomId}/messages`, {
      clientId,
      body: '',
      attachmentIds: [a.id],
    });
    expect(sent.statusCode, sent.body).toBe(201);
    const message = sent.json<MessageWire>();
    expect(message.body).toBe('');
    expect(message.attachments?.map((x) => x.id)).toEqual([a.id]);
    // Idempotent as before: the same client id answers the original.
    const again = await chat.patientClient.post(`/api/rooms/${chat.roomId}/messages`, {
      clientId,
      body: '',
      attachmentIds: [a.id],
    });
    expect(again.statusCode).toBe(200);
    expect(again.json<MessageWire>().id).toBe(message.id);
    const reuse = await chat.patientClient.post(`/api/rooms/${chat.roomId}/messages`, {
      clientId: randomUUID(),
      body: 'again',
      attachmentIds: [a.id],
    });
    expect(reuse.statusCode).toBe(404);
    const history = await chat.practitionerClient.get(`/api/rooms/${chat.roomId}/messages`);
    const listed = history
      .json<{ messages: MessageWire[] }>()
      .messages.find((m) => m.id === message.id);
    expect(listed?.attachments?.[0]).toMatchObject({ id: a.id, kind: 'image' });
  });

  it('refuses an empty message without files, more than five files, and another sender’s upload', async () => {
    const empty = await chat.patientClient.post(`/api/rooms/${chat.roomId}/messages`, {
      clientId: randomUUID(),
      body: '  ',
    });
    expect(empty.statusCode).toBe(400);
    const six = await chat.patientClient.post(`/api/rooms/${chat.roomId}/messages`, {
      clientId: randomUUID(),
      body: 'x',
      attachmentIds: Array.from({ length: 6 }, () => randomUUID()),
    });
    expect(six.statusCode).toBe(400);
    expect(six.json<{ code: string }>().code).toBe('too_many_attachments');
    const mine = (
      await upload(
        t,
        chat.practitionerClient,
        chat.roomId,
        'p.pdf',
        'application/pdf',
        await pdf(1),
      )
    ).json<AttachmentWire>();
    const theirs = await chat.patientClient.post(`/api/rooms/${chat.roomId}/messages`, {
      clientId: randomUUID(),
      body: 'x',
      attachmentIds: [mine.id],
    });
    expect(theirs.statusCode).toBe(404);
  });

  it('an upload not yet sent is seen by its uploader only; once sent, by both participants', async () => {
    const a = (
      await upload(t, chat.patientClient, chat.roomId, 'draft.jpg', 'image/jpeg', await photo())
    ).json<AttachmentWire>();
    for (const url of [a.url, a.thumbnailUrl!]) {
      expect((await chat.patientClient.get(url)).statusCode).toBe(200);
      const theirs = await chat.practitionerClient.get(url);
      expect(theirs.statusCode).toBe(404);
      expect(theirs.json<{ code: string }>().code).toBe('not_found');
    }
    // The refused look is not an audited read of the file.
    const reads = await auditRows(t, { action: 'attachment.read', targetId: a.id });
    expect(reads.some((r) => r.actor_id === chat.practitioner.user.id)).toBe(false);

    await sendWith(chat.patientClient, chat.roomId, [a.id]);
    for (const url of [a.url, a.thumbnailUrl!]) {
      expect((await chat.practitionerClient.get(url)).statusCode).toBe(200);
      expect((await chat.patientClient.get(url)).statusCode).toBe(200);
    }
  });

  it('the session tells the app the largest file it may send', async () => {
    const session = await chat.patientClient.get('/api/auth/session');
    expect(session.json<{ attachmentMaxBytes: number }>().attachmentMaxBytes).toBe(
      t.services.config.attachments.maxBytes,
    );
  });

  it('a stranger, another patient and an admin get 404 on download and upload', async () => {
    const a = (
      await upload(t, chat.patientClient, chat.roomId, 'x.jpg', 'image/jpeg', await photo())
    ).json<AttachmentWire>();
    const other = await buildAcceptedAppointment(t);
    const stranger = await buildPatient(t);
    const admin = await buildAdmin(t);
    for (const client of [
      other.patientClient,
      other.practitionerClient,
      stranger.client,
      admin.client,
    ]) {
      for (const url of [a.url, a.thumbnailUrl!]) {
        const res = await client.get(url);
        expect(res.statusCode).toBe(404);
        expect(res.json<{ code: string }>().code).toBe('not_found');
      }
      const up = await upload(t, client, chat.roomId, 'y.jpg', 'image/jpeg', await photo());
      expect(up.statusCode).toBe(404);
    }
    expect((await chat.patientClient.get(`/api/attachments/${randomUUID()}`)).statusCode).toBe(404);
  });
});

describe('attachments in a closed room', () => {
  it('refuses uploads from both sides with 409 room_closed and stores nothing; files sent before stay readable', async () => {
    const t = await startMessagingApp();
    try {
      const chat = await buildAcceptedAppointment(t);
      const before = (
        await upload(t, chat.patientClient, chat.roomId, 'rash.jpg', 'image/jpeg', await photo())
      ).json<AttachmentWire>();
      const sent = await chat.patientClient.post(`/api/rooms/${chat.roomId}/messages`, {
        clientId: randomUUID(),
        body: 'see photo',
        attachmentIds: [before.id],
      });
      expect(sent.statusCode, sent.body).toBe(201);
      const pending = (
        await upload(t, chat.patientClient, chat.roomId, 'later.jpg', 'image/jpeg', await photo())
      ).json<AttachmentWire>();
      const cancel = await chat.patientClient.post(
        `/api/appointments/${chat.appointment.id}/cancel`,
        {},
      );
      expect(cancel.statusCode, cancel.body).toBe(200);

      const count = async () =>
        (await t.services.store.db.selectFrom('attachments').select('id').execute()).length;
      const stored = await count();
      for (const client of [chat.patientClient, chat.practitionerClient]) {
        const res = await upload(t, client, chat.roomId, 'y.jpg', 'image/jpeg', await photo());
        expect(res.statusCode, res.body).toBe(409);
        expect(res.json<{ code: string }>().code).toBe('room_closed');
      }
      expect(await count()).toBe(stored);
      // An upload made while the room was open cannot be sent into it once closed.
      const late = await chat.patientClient.post(`/api/rooms/${chat.roomId}/messages`, {
        clientId: randomUUID(),
        body: 'one more',
        attachmentIds: [pending.id],
      });
      expect(late.statusCode, late.body).toBe(409);
      expect(late.json<{ code: string }>().code).toBe('room_closed');
      for (const client of [chat.patientClient, chat.practitionerClient]) {
        expect((await client.get(before.url)).statusCode).toBe(200);
      }
    } finally {
      await t.stop();
    }
  });
});

describe('unattached uploads', () => {
  it('are removed with their bytes after a day; attached ones stay', async () => {
    const t = await startMessagingApp();
    try {
      const chat = await buildAcceptedAppointment(t);
      const loose = (
        await upload(t, chat.patientClient, chat.roomId, 'a.jpg', 'image/jpeg', await photo())
      ).json<AttachmentWire>();
      const kept = (
        await upload(t, chat.patientClient, chat.roomId, 'b.jpg', 'image/jpeg', await photo())
      ).json<AttachmentWire>();
      const sent = await chat.patientClient.post(`/api/rooms/${chat.roomId}/messages`, {
        clientId: randomUUID(),
        body: 'see photo',
        attachmentIds: [kept.id],
      });
      expect(sent.statusCode).toBe(201);
      const looseRow = await t.services.store.system().attachments.find(loose.id);
      manualClock(t).advance(23 * HOUR);
      await t.jobs.runNow('unattached-upload-sweep');
      // Sessions idle out long before a day passes: sign in again to look.
      const patient = await t.login(chat.patient.user);
      expect((await patient.get(loose.url)).statusCode).toBe(200);
      manualClock(t).advance(2 * HOUR);
      expect(await t.jobs.runNow('unattached-upload-sweep')).toBe(true);
      const later = await t.login(chat.patient.user);
      expect((await later.get(loose.url)).statusCode).toBe(404);
      expect(await t.services.blobs.get(looseRow!.blob_key)).toBeUndefined();
      expect(await t.services.blobs.get(looseRow!.thumb_key!)).toBeUndefined();
      expect((await later.get(kept.url)).statusCode).toBe(200);
    } finally {
      await t.stop();
    }
  });
});

describe('unfinished uploads', () => {
  it("bytes whose upload died before its row are removed after an hour; a finished upload's stay", async () => {
    const t = await startMessagingApp();
    try {
      const chat = await buildAcceptedAppointment(t);
      const attachments = t.services.store.system().attachments;
      const finished = (
        await upload(t, chat.patientClient, chat.roomId, 'a.jpg', 'image/jpeg', await photo())
      ).json<AttachmentWire>();
      const finishedRow = await attachments.find(finished.id);
      // A finished upload leaves nothing to sweep.
      expect(await attachments.unsettledBlobsBefore(Number.MAX_SAFE_INTEGER, 10)).toEqual([]);
      // What a process that died mid-upload leaves: the key noted, the bytes, and no row.
      const orphan = randomUUID();
      await attachments.intendBlobs([orphan], t.clock.now());
      await t.services.blobs.put(orphan, Buffer.from('half of an upload'));

      manualClock(t).advance(HOUR / 2);
      await t.jobs.runNow('unattached-upload-sweep');
      expect(await t.services.blobs.get(orphan)).toBeDefined();
      manualClock(t).advance(HOUR);
      expect(await t.jobs.runNow('unattached-upload-sweep')).toBe(true);
      expect(await t.services.blobs.get(orphan)).toBeUndefined();
      expect(await attachments.unsettledBlobsBefore(Number.MAX_SAFE_INTEGER, 10)).toEqual([]);
      for (const key of [finishedRow!.blob_key, finishedRow!.thumb_key!]) {
        expect(await t.services.blobs.get(key)).toBeDefined();
      }
      const patient = await t.login(chat.patient.user);
      expect((await patient.get(finished.url)).statusCode).toBe(200);
    } finally {
      await t.stop();
    }
  });
});

describe('attachments over the WebSocket', () => {
  it('a send with attachmentIds is acknowledged and pushed live with its attachments', async () => {
    const t = await startMessagingApp({ listen: true });
    try {
      const chat = await buildAcceptedAppointment(t);
      const a = (
        await upload(t, chat.patientClient, chat.roomId, 'x.jpg', 'image/jpeg', await photo())
      ).json<AttachmentWire>();
      const sender = await WsClient.live(t.url, chat.patientClient.cookie, { [chat.roomId]: 0 });
      const receiver = await WsClient.live(t.url, chat.practitionerClient.cookie, {
        [chat.roomId]: 0,
      });
      const clientId = randomUUID();
      sender.send({ type: 'send', roomId: chat.roomId, clientId, body: '', attachmentIds: [a.id] });
      const ack = await sender.nextOf('ack');
      expect(ack.message.attachments?.map((x) => x.id)).toEqual([a.id]);
      const pushed = await receiver.nextOf('message');
      expect(pushed.message.attachments?.[0]).toMatchObject({ id: a.id, url: a.url });
      await sender.close();
      await receiver.close();
    } finally {
      await t.stop();
    }
  });
});
