import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { PDFDocument } from 'pdf-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCtx, type Ctx } from '../../src/domain/context.js';
import type { Role } from '../../src/store/schema.js';
import type { TestApp } from '../support/app.js';
import { DAY, startMessagingApp } from '../support/factories.js';

/**
 * A practice of random shape (who booked whom, who wrote what, whose photo is whose) and
 * random callers asking for random rooms, messages, attachments and photos, by real id or
 * made-up id.
 * Whatever the caller, the scoped store and the domain services built on it answer only
 * what the caller takes part in; everything else is simply not there.
 */

interface User {
  id: string;
  role: Role;
  photo: string;
  ctx: Ctx;
}
interface Room {
  id: string;
  patientId: string;
  practitionerId: string;
  messageIds: string[];
  /** Sent in a message: both participants see them. */
  attachmentIds: string[];
  /** Uploaded by the patient and not sent yet: the patient alone sees them. */
  draftIds: string[];
}

let t: TestApp;
const users: User[] = [];
const rooms: Room[] = [];
/** Pairs (patient, practitioner) with an appointment of any status: a practitioner may see that patient's photo. */
const booked = new Set<string>();

async function makeUser(role: Role, i: number): Promise<User> {
  const photo = randomUUID();
  await t.services.store.system().files.insert({
    id: photo,
    owner_id: null,
    content_type: 'image/webp',
    byte_size: 3,
    data: Buffer.from([1, 2, 3]),
    created_at: t.clock.now(),
  });
  const row = await t.services.accounts.create(systemCtx(), {
    role,
    name: `${role} ${i}`,
    email: `${role}.${i}.${randomUUID().slice(0, 6)}@example.com`,
    password: 'correct horse battery',
    dateOfBirth: role === 'patient' ? '1980-01-01' : null,
    photoFileId: photo,
  });
  return {
    id: row.id,
    role,
    photo,
    ctx: { actor: { id: row.id, role, name: row.name }, ip: null },
  };
}

beforeAll(async () => {
  t = await startMessagingApp();
  const { appointments, messages } = t.services;
  for (let i = 0; i < 5; i++) users.push(await makeUser('patient', i));
  for (let i = 0; i < 3; i++) users.push(await makeUser('practitioner', i));
  users.push(await makeUser('admin', 0));
  const patients = users.filter((u) => u.role === 'patient');
  const practitioners = users.filter((u) => u.role === 'practitioner');
  const doc = await PDFDocument.create();
  doc.addPage([100, 100]);
  const pdf = Buffer.from(await doc.save());
  // A fixed random practice: every run of the property below asks about the same one.
  const shape = fc.sample(
    fc.array(
      fc.record({
        patient: fc.nat(patients.length - 1),
        practitioner: fc.nat(practitioners.length - 1),
        outcome: fc.constantFrom('accept', 'accept', 'accept', 'decline', 'requested'),
        messages: fc.nat(3),
      }),
      { minLength: 10, maxLength: 14 },
    ),
    { numRuns: 1, seed: 1234 },
  )[0]!;
  for (const s of shape) {
    const p = patients[s.patient]!;
    const d = practitioners[s.practitioner]!;
    const a = await appointments.request(p.ctx, {
      practitionerId: d.id,
      startsAt: new Date(t.clock.now() + DAY).toISOString(),
      reason: 'property',
    });
    booked.add(`${p.id}:${d.id}`);
    if (s.outcome === 'requested') continue;
    const moved = await appointments.transition(d.ctx, a.id, s.outcome);
    if (!moved.roomId) continue;
    const room: Room = {
      id: moved.roomId,
      patientId: p.id,
      practitionerId: d.id,
      messageIds: [],
      attachmentIds: [],
      draftIds: [],
    };
    for (let m = 0; m < s.messages; m++) {
      const from = m % 2 === 0 ? p : d;
      const sent = await messages.send(from.ctx, room.id, {
        clientId: randomUUID(),
        body: `m${m}`,
      });
      room.messageIds.push(sent.message.id);
    }
    // Declined appointments leave a closed room, which takes no files.
    if (s.outcome === 'accept') {
      const upload = () =>
        t.services.attachments.upload(p.ctx, room.id, {
          name: 'letter.pdf',
          declaredType: 'application/pdf',
          stream: Readable.from([pdf]),
        });
      const file = await upload();
      const carrier = await messages.send(p.ctx, room.id, {
        clientId: randomUUID(),
        body: '',
        attachmentIds: [file.id],
      });
      room.messageIds.push(carrier.message.id);
      room.attachmentIds.push(file.id);
      room.draftIds.push((await upload()).id);
    }
    rooms.push(room);
  }
  expect(rooms.length).toBeGreaterThan(2);
  expect(rooms.some((r) => r.attachmentIds.length > 0)).toBe(true);
});
afterAll(async () => {
  await t.stop();
});

const inRoom = (u: User, r: Room) => u.id === r.patientId || u.id === r.practitionerId;
const seesPhotoOf = (u: User, owner: User) =>
  u.id === owner.id ||
  owner.role !== 'patient' ||
  u.role === 'admin' ||
  booked.has(`${owner.id}:${u.id}`);

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code ?? 'error';
  }
}

describe('store.for(ctx) answers only what the caller may see', () => {
  it('rooms, messages and pages: participants only, whoever asks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(100),
        fc.nat(100),
        fc.nat(10),
        fc.boolean(),
        async (who, which, pick, madeUp) => {
          const caller = users[who % users.length]!;
          const room = rooms[which % rooms.length]!;
          const roomId = madeUp ? randomUUID() : room.id;
          const member = !madeUp && inRoom(caller, room);
          const scoped = t.services.store.for(caller.ctx);

          expect(Boolean(await scoped.rooms.find(roomId))).toBe(member);
          expect((await scoped.rooms.list(roomId)).length).toBe(member ? 1 : 0);
          const pageRows = await scoped.messages.page(roomId, { limit: 50 });
          expect(pageRows.length).toBe(member ? room.messageIds.length : 0);
          const messageId = madeUp
            ? randomUUID()
            : (room.messageIds[pick % Math.max(1, room.messageIds.length)] ?? randomUUID());
          const message = await scoped.messages.find(messageId);
          expect(Boolean(message)).toBe(member && room.messageIds.includes(messageId));
          // The caller's own list never holds a room they are not part of.
          for (const listed of await scoped.rooms.list())
            expect(
              inRoom(
                caller,
                rooms.find((r) => r.id === listed.id)!,
              ),
            ).toBe(true);

          const draft = pick % 2 === 1;
          const attachmentId = madeUp
            ? randomUUID()
            : ((draft ? room.draftIds[0] : room.attachmentIds[0]) ?? randomUUID());
          const hasFile =
            member &&
            (room.attachmentIds.includes(attachmentId) ||
              (room.draftIds.includes(attachmentId) && caller.id === room.patientId));
          expect(Boolean(await scoped.attachments.find(attachmentId))).toBe(hasFile);

          // The domain services on top: the same answer, as not_found.
          const expected = member ? 'ok' : 'not_found';
          expect(await code(t.services.attachments.read(caller.ctx, attachmentId, 'file'))).toBe(
            hasFile ? 'ok' : 'not_found',
          );
          expect(await code(t.services.rooms.get(caller.ctx, roomId))).toBe(expected);
          expect(await code(t.services.feed.page(caller.ctx, roomId, {}))).toBe(expected);
          expect(await code(t.services.rooms.requireParticipant(caller.ctx, roomId))).toBe(
            expected,
          );
        },
      ),
      { numRuns: 150 },
    );
  });

  it("profile photos: nobody loads another patient's photo unless they care for them or run the practice", async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(100), fc.nat(100), fc.boolean(), async (who, whose, madeUp) => {
        const caller = users[who % users.length]!;
        const owner = users[whose % users.length]!;
        const fileId = madeUp ? randomUUID() : owner.photo;
        const visible = !madeUp && seesPhotoOf(caller, owner);
        expect(Boolean(await t.services.store.for(caller.ctx).files.find(fileId))).toBe(visible);
        expect(await code(t.services.photos.get(caller.ctx, fileId))).toBe(
          visible ? 'ok' : 'not_found',
        );
        if (caller.role === 'patient' && owner.role === 'patient' && owner.id !== caller.id)
          expect(visible).toBe(false);
      }),
      { numRuns: 150 },
    );
  });

  it('appointments: only the two parties find one', async () => {
    const all = await t.services.store.system().appointments.list({});
    await fc.assert(
      fc.asyncProperty(fc.nat(100), fc.nat(100), async (who, which) => {
        const caller = users[who % users.length]!;
        const a = all[which % all.length]!;
        const party = a.patient_id === caller.id || a.practitioner_id === caller.id;
        const scoped = t.services.store.for(caller.ctx).appointments;
        expect(Boolean(await scoped.find(a.id))).toBe(party);
        for (const mine of await scoped.list({}))
          expect([mine.patient_id, mine.practitioner_id]).toContain(caller.id);
      }),
      { numRuns: 100 },
    );
  });
});
