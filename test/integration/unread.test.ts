import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { Dashboard } from '../../src/domain/dashboard.js';
import type { TestApp, TestClient } from '../support/app.js';
import { createTestStore } from '../support/app.js';
import {
  DAY,
  buildAcceptedAppointment,
  buildPatient,
  buildPractitioner,
  markRead,
  requestAppointment,
  roomOf,
  roomsOf,
  send,
  startMessagingApp,
  unreadOf,
  type AcceptedAppointment,
} from '../support/factories.js';

let t: TestApp;
let clock: ManualClock;
beforeAll(async () => {
  clock = new ManualClock(Date.UTC(2031, 4, 12, 8, 0, 0));
  t = await startMessagingApp({ clock });
});
afterAll(async () => {
  await t.stop();
});

/** Sends `n` messages, each a second after the one before, as a conversation would. */
async function sendMany(client: TestClient, roomId: string, n: number, label = 'msg') {
  for (let i = 0; i < n; i++) {
    clock.advance(1_000);
    await send(client, roomId, `${label} ${i + 1}`);
  }
}

/** What the caller sees for a room: in the list, alone, and in the unread totals. */
async function unreadIn(client: TestClient, roomId: string): Promise<number> {
  const listed = (await roomsOf(client)).find((r) => r.id === roomId);
  const single = await roomOf(client, roomId);
  const totals = await unreadOf(client);
  expect(listed?.unreadCount).toBe(single.unreadCount);
  expect(totals.rooms[roomId] ?? 0).toBe(single.unreadCount);
  return single.unreadCount;
}

describe('read marks', () => {
  let room: AcceptedAppointment;
  beforeAll(async () => {
    room = await buildAcceptedAppointment(t);
    await sendMany(room.practitionerClient, room.roomId, 8);
  });

  it('move forward only: read 5 then read 3 leaves readSeq at 5', async () => {
    expect(await markRead(room.patientClient, room.roomId, 5)).toBe(5);
    expect(await markRead(room.patientClient, room.roomId, 3)).toBe(5);
    expect(await markRead(room.patientClient, room.roomId, 0)).toBe(5);
    const seen = await roomOf(room.patientClient, room.roomId);
    expect(seen.readSeq).toBe(5);
    expect(seen.unreadCount).toBe(3);
    // The practitioner sees the patient's read receipt.
    expect((await roomOf(room.practitionerClient, room.roomId)).otherReadSeq).toBe(5);
  });

  it('a read past the last message clamps to the last seq', async () => {
    expect(await markRead(room.patientClient, room.roomId, 1_000)).toBe(8);
    expect(await unreadIn(room.patientClient, room.roomId)).toBe(0);
    // So the next message is unread, not silently "already read".
    await sendMany(room.practitionerClient, room.roomId, 1);
    expect(await unreadIn(room.patientClient, room.roomId)).toBe(1);
  });

  it('racing reads settle on the highest, and unread matches it', async () => {
    const r = await buildAcceptedAppointment(t);
    await sendMany(r.practitionerClient, r.roomId, 10);
    const marks = [3, 9, 1, 7, 10, 2, 5];
    await Promise.all(marks.map((seq) => markRead(r.patientClient, r.roomId, seq)));
    expect((await roomOf(r.patientClient, r.roomId)).readSeq).toBe(10);
    expect(await unreadIn(r.patientClient, r.roomId)).toBe(0);
  });

  it.each([[-1], [1.5], ['3']])('seq %j gives 400 validation_failed', async (seq) => {
    const res = await room.patientClient.post(`/api/rooms/${room.roomId}/read`, { seq });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'validation_failed' });
  });
});

describe('unread counts', () => {
  it('count only the other participant’s messages after my read mark, after every send and read', async () => {
    const room = await buildAcceptedAppointment(t);
    const { patientClient: pc, practitionerClient: dc, roomId } = room;
    expect(await unreadIn(pc, roomId)).toBe(0);
    expect(await unreadIn(dc, roomId)).toBe(0);

    await sendMany(dc, roomId, 3); // seq 1..3 from the practitioner
    expect(await unreadIn(pc, roomId)).toBe(3);
    expect(await unreadIn(dc, roomId)).toBe(0);

    await sendMany(pc, roomId, 2); // seq 4..5 from the patient
    expect(await unreadIn(pc, roomId)).toBe(3);
    expect(await unreadIn(dc, roomId)).toBe(2);

    await markRead(pc, roomId, 2);
    expect(await unreadIn(pc, roomId)).toBe(1);
    // Reading past my own messages does not count them.
    await markRead(pc, roomId, 5);
    expect(await unreadIn(pc, roomId)).toBe(0);

    await sendMany(dc, roomId, 1); // seq 6
    expect(await unreadIn(pc, roomId)).toBe(1);
    await markRead(dc, roomId, 4);
    expect(await unreadIn(dc, roomId)).toBe(1);
    await markRead(dc, roomId, 6);
    expect(await unreadIn(dc, roomId)).toBe(0);
    expect(await unreadIn(pc, roomId)).toBe(1);
  });

  it('GET /api/me/unread totals every room of mine and only mine', async () => {
    const patient = await buildPatient(t);
    const a = await buildAcceptedAppointment(t, patient);
    const b = await buildAcceptedAppointment(t, patient);
    const c = await buildAcceptedAppointment(t, patient, a.practitioner);
    const strangers = await buildAcceptedAppointment(t, undefined, a.practitioner);
    await sendMany(a.practitionerClient, a.roomId, 2);
    await sendMany(b.practitionerClient, b.roomId, 3);
    await sendMany(c.practitionerClient, c.roomId, 1);
    await sendMany(strangers.practitionerClient, strangers.roomId, 4);
    await sendMany(patient.client, a.roomId, 5);
    expect(await unreadOf(patient.client)).toEqual({
      total: 6,
      rooms: { [a.roomId]: 2, [b.roomId]: 3, [c.roomId]: 1 },
    });
    // The practitioner of a and c sees the patient's five in a, and nothing of the others.
    expect(await unreadOf(a.practitionerClient)).toEqual({ total: 5, rooms: { [a.roomId]: 5 } });
    await markRead(patient.client, b.roomId, 3);
    expect(await unreadOf(patient.client)).toEqual({
      total: 3,
      rooms: { [a.roomId]: 2, [c.roomId]: 1 },
    });
  });

  it('an archived room counts 0 until a new message brings it back; then it counts all unread', async () => {
    const room = await buildAcceptedAppointment(t);
    const { patientClient: pc, practitionerClient: dc, roomId } = room;
    await sendMany(dc, roomId, 3);
    await markRead(pc, roomId, 1);
    expect(await unreadIn(pc, roomId)).toBe(2);

    clock.advance(1_000);
    const archived = await pc.post(`/api/rooms/${roomId}/archive`, {});
    expect(archived.statusCode).toBe(200);
    expect(archived.json()).toMatchObject({ archived: true, unreadCount: 0 });
    expect(await unreadIn(pc, roomId)).toBe(0);
    expect((await unreadOf(pc)).total).toBe(0);
    // Archiving is mine alone: the practitioner's view is unchanged.
    expect((await roomOf(dc, roomId)).archived).toBe(false);
    // A new message from the practitioner brings it back...
    await sendMany(dc, roomId, 1);
    expect((await roomOf(pc, roomId)).archived).toBe(false);
    // ...and then every unread message counts, the ones from before the archive too.
    expect(await unreadIn(pc, roomId)).toBe(3);
    expect((await unreadOf(pc)).total).toBe(3);
  });

  it('a message in the same millisecond as the archive still brings the room back', async () => {
    const room = await buildAcceptedAppointment(t);
    const { patientClient: pc, practitionerClient: dc, roomId } = room;
    await sendMany(dc, roomId, 1);
    clock.advance(1_000);
    expect((await pc.post(`/api/rooms/${roomId}/archive`, {})).statusCode).toBe(200);
    // No clock movement: the reply arrives in the same millisecond.
    await send(dc, roomId, 'are you there?');
    expect((await roomOf(pc, roomId)).archived).toBe(false);
    expect(await unreadIn(pc, roomId)).toBe(2);
  });

  it('unarchive, and starting the chat again, bring an archived room back with its unread', async () => {
    const room = await buildAcceptedAppointment(t);
    const { patientClient: pc, practitionerClient: dc, roomId } = room;
    await sendMany(dc, roomId, 2);
    clock.advance(1_000);
    await pc.post(`/api/rooms/${roomId}/archive`, {});
    expect(await unreadIn(pc, roomId)).toBe(0);
    const res = await pc.post(`/api/rooms/${roomId}/unarchive`, {});
    expect(res.json()).toMatchObject({ archived: false, unreadCount: 2 });
    expect(await unreadIn(pc, roomId)).toBe(2);

    clock.advance(1_000);
    await pc.post(`/api/rooms/${roomId}/archive`, {});
    const started = await pc.post('/api/rooms', { practitionerId: room.practitioner.user.id });
    expect(started.statusCode).toBe(200);
    expect(started.json()).toMatchObject({ id: roomId, archived: false, unreadCount: 2 });
  });

  it('are the same after a restart on the same store', async () => {
    const store = await createTestStore();
    const restartClock = new ManualClock(Date.UTC(2031, 4, 12, 8, 0, 0));
    let app = await startMessagingApp({ store, clock: restartClock });
    try {
      const room = await buildAcceptedAppointment(app);
      const archivedRoom = await buildAcceptedAppointment(app, room.patient);
      for (let i = 0; i < 4; i++) {
        restartClock.advance(1_000);
        await send(room.practitionerClient, room.roomId, `before restart ${i}`);
        await send(archivedRoom.practitionerClient, archivedRoom.roomId, `archived ${i}`);
      }
      await send(room.patientClient, room.roomId, 'mine');
      await markRead(room.patientClient, room.roomId, 2);
      await markRead(room.practitionerClient, room.roomId, 1);
      restartClock.advance(1_000);
      await room.patientClient.post(`/api/rooms/${archivedRoom.roomId}/archive`, {});
      const before = {
        patient: await unreadOf(room.patientClient),
        practitioner: await unreadOf(room.practitionerClient),
      };
      expect(before.patient).toEqual({ total: 2, rooms: { [room.roomId]: 2 } });
      expect(before.practitioner).toEqual({ total: 1, rooms: { [room.roomId]: 1 } });

      await app.stop();
      app = await startMessagingApp({ store, clock: restartClock });
      const patient = await app.login(room.patient.user);
      const practitioner = await app.login(room.practitioner.user);
      expect(await unreadOf(patient)).toEqual(before.patient);
      expect(await unreadOf(practitioner)).toEqual(before.practitioner);
      expect((await roomOf(patient, room.roomId)).readSeq).toBe(2);
      expect((await roomOf(patient, archivedRoom.roomId)).archived).toBe(true);

      // Counting carries on from the stored state.
      restartClock.advance(1_000);
      await send(practitioner, room.roomId, 'after restart');
      await send(practitioner, room.roomId, 'again');
      expect((await unreadOf(patient)).rooms[room.roomId]).toBe(4);
      const otherDoctor = await app.login(archivedRoom.practitioner.user);
      await send(otherDoctor, archivedRoom.roomId, 'wake up');
      expect(await unreadOf(patient)).toEqual({
        total: 9,
        rooms: { [room.roomId]: 4, [archivedRoom.roomId]: 5 },
      });
    } finally {
      await app.stop();
      await store.drop();
    }
  });
});

describe('the dashboard', () => {
  it('shows recent messages from others, upcoming appointments, requests for practitioners, unread', async () => {
    const patient = await buildPatient(t, { name: 'Dora Dashboard' });
    const doctor = await buildPractitioner(t, { name: 'Dr Quentin Board' });
    const room = await buildAcceptedAppointment(t, patient, doctor, { startsInMs: 2 * DAY });
    const requested = await requestAppointment(t, patient, doctor, { startsInMs: 3 * DAY });
    const declined = await requestAppointment(t, patient, doctor, { startsInMs: 4 * DAY });
    await doctor.client.post(`/api/appointments/${declined.id}/decline`, {});
    const otherRoom = await buildAcceptedAppointment(t);
    await sendMany(otherRoom.practitionerClient, otherRoom.roomId, 1, 'not for Dora');

    await sendMany(doctor.client, room.roomId, 2, 'from the doctor');
    await sendMany(patient.client, room.roomId, 1, 'from Dora');

    const get = async (client: TestClient) => {
      const res = await client.get('/api/dashboard');
      expect(res.statusCode).toBe(200);
      return res.json<Dashboard>();
    };
    const forPatient = await get(patient.client);
    expect(forPatient.recentMessages.map((m) => m.message.body)).toEqual([
      'from the doctor 2',
      'from the doctor 1',
    ]);
    expect(forPatient.recentMessages[0]).toMatchObject({
      roomId: room.roomId,
      from: { id: doctor.user.id, name: 'Dr Quentin Board' },
    });
    expect(forPatient.upcomingAppointments.map((a) => a.id)).toEqual([
      room.appointment.id,
      requested.id,
    ]);
    expect(forPatient.requests).toEqual([]);
    expect(forPatient.unread).toEqual({ total: 2, rooms: { [room.roomId]: 2 } });

    const forDoctor = await get(doctor.client);
    expect(forDoctor.recentMessages.map((m) => m.message.body)).toEqual(['from Dora 1']);
    expect(forDoctor.requests.map((a) => a.id)).toEqual([requested.id]);
    expect(forDoctor.upcomingAppointments.map((a) => a.id)).toEqual([
      room.appointment.id,
      requested.id,
    ]);
    expect(forDoctor.unread).toEqual({ total: 1, rooms: { [room.roomId]: 1 } });

    // Reading clears the dashboard's unread too.
    await markRead(patient.client, room.roomId, 3);
    expect((await get(patient.client)).unread).toEqual({ total: 0, rooms: {} });
  });
});
