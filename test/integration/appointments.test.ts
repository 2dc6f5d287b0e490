import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { AppointmentWire, PractitionerWire } from '../../src/shared/wire.js';
import type { TestApp } from '../support/app.js';
import {
  DAY,
  HOUR,
  buildAcceptedAppointment,
  buildAdmin,
  buildPatient,
  buildPractitioner,
  inFuture,
  requestAppointment,
  roomsOf,
  startMessagingApp,
  type Person,
} from '../support/factories.js';

let t: TestApp;
beforeAll(async () => {
  t = await startMessagingApp();
});
afterAll(async () => {
  await t.stop();
});

const roomCount = async () =>
  Number(
    (
      await t.services.store.db
        .selectFrom('rooms')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

const statusOf = async (id: string) =>
  (await t.services.store.system().appointments.findById(id))?.status;

describe('a patient requests an appointment', () => {
  let patient: Person;
  let doctor: Person;
  beforeAll(async () => {
    patient = await buildPatient(t);
    doctor = await buildPractitioner(t, { name: 'Dr Ines Costa', specialty: 'Cardiology' });
  });

  it('creates it as requested, with both people, the time and the cleaned reason', async () => {
    const startsAt = inFuture(t, 3 * DAY);
    const res = await patient.client.post('/api/appointments', {
      practitionerId: doctor.user.id,
      startsAt,
      reason: '  Chest pain when climbing stairs  ',
    });
    expect(res.statusCode).toBe(201);
    const a = res.json<AppointmentWire>();
    expect(a).toMatchObject({
      status: 'requested',
      startsAt,
      reason: 'Chest pain when climbing stairs',
      roomId: null,
      patient: { id: patient.user.id, role: 'patient' },
      practitioner: { id: doctor.user.id, name: 'Dr Ines Costa', specialty: 'Cardiology' },
    });
    expect(await statusOf(a.id)).toBe('requested');
  });

  it('accepts a reason of exactly 500 characters and refuses 501 with 400 validation_failed', async () => {
    const ok = await requestAppointment(t, patient, doctor, { reason: 'r'.repeat(500) });
    expect([...ok.reason]).toHaveLength(500);
    const before = await t.services.store.system().appointments.list({ userId: patient.user.id });
    const res = await patient.client.post('/api/appointments', {
      practitionerId: doctor.user.id,
      startsAt: inFuture(t),
      reason: 'r'.repeat(501),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'validation_failed' });
    const after = await t.services.store.system().appointments.list({ userId: patient.user.id });
    expect(after).toHaveLength(before.length);
  });

  it('refuses an empty (whitespace-only) reason', async () => {
    const res = await patient.client.post('/api/appointments', {
      practitionerId: doctor.user.id,
      startsAt: inFuture(t),
      reason: '   \n ',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'validation_failed' });
  });

  it.each([
    ['an hour ago', -HOUR],
    ['right now', 0],
  ])('refuses a time %s with 400 appointment_in_past', async (_label, offset) => {
    const res = await patient.client.post('/api/appointments', {
      practitionerId: doctor.user.id,
      startsAt: new Date(t.clock.now() + offset).toISOString(),
      reason: 'Too late',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'appointment_in_past' });
  });

  it('refuses a malformed time with 400 validation_failed', async () => {
    const res = await patient.client.post('/api/appointments', {
      practitionerId: doctor.user.id,
      startsAt: 'next tuesday',
      reason: 'Soon',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'validation_failed' });
  });

  it('answers 404 for an unknown practitioner, and for a patient or admin id used as one', async () => {
    const otherPatient = await buildPatient(t);
    const admin = await buildAdmin(t);
    for (const practitionerId of [
      '00000000-0000-4000-8000-000000000000',
      otherPatient.user.id,
      admin.user.id,
    ]) {
      const res = await patient.client.post('/api/appointments', {
        practitionerId,
        startsAt: inFuture(t),
        reason: 'Checkup',
      });
      expect(res.statusCode, practitionerId).toBe(404);
      expect(res.json()).toMatchObject({ code: 'not_found' });
    }
  });

  it('only patients request: a practitioner gets 403', async () => {
    const other = await buildPractitioner(t);
    const res = await other.client.post('/api/appointments', {
      practitionerId: doctor.user.id,
      startsAt: inFuture(t),
      reason: 'Referral',
    });
    expect(res.statusCode).toBe(403);
  });
});

describe('the state machine', () => {
  let patient: Person;
  let doctor: Person;
  beforeAll(async () => {
    patient = await buildPatient(t);
    doctor = await buildPractitioner(t);
  });

  it('the practitioner declines a request, with a note; no room is opened', async () => {
    const a = await requestAppointment(t, patient, doctor);
    const rooms = await roomCount();
    const res = await doctor.client.post(`/api/appointments/${a.id}/decline`, {
      note: 'Fully booked that week',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'declined',
      note: 'Fully booked that week',
      roomId: null,
    });
    expect(await roomCount()).toBe(rooms);
  });

  it.each(['patient', 'practitioner'] as const)(
    'the %s cancels a requested and an accepted appointment',
    async (side) => {
      const requested = await requestAppointment(t, patient, doctor);
      const accepted = (await buildAcceptedAppointment(t, patient, doctor)).appointment;
      const who = side === 'patient' ? patient : doctor;
      for (const a of [requested, accepted]) {
        const res = await who.client.post(`/api/appointments/${a.id}/cancel`, {});
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json()).toMatchObject({ status: 'cancelled' });
        expect(await statusOf(a.id)).toBe('cancelled');
      }
    },
  );

  it('gives 409 invalid_transition for accepting a declined one, and the status stays', async () => {
    const a = await requestAppointment(t, patient, doctor);
    await doctor.client.post(`/api/appointments/${a.id}/decline`, {});
    const rooms = await roomCount();
    const res = await doctor.client.post(`/api/appointments/${a.id}/accept`, {});
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'invalid_transition' });
    expect(await statusOf(a.id)).toBe('declined');
    expect(await roomCount()).toBe(rooms);
  });

  it('gives 409 invalid_transition for declining an accepted one', async () => {
    const { appointment } = await buildAcceptedAppointment(t, patient, doctor);
    const res = await doctor.client.post(`/api/appointments/${appointment.id}/decline`, {});
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'invalid_transition' });
    expect(await statusOf(appointment.id)).toBe('accepted');
  });

  it('gives 409 invalid_transition for cancelling a cancelled one, and for accepting twice', async () => {
    const a = await requestAppointment(t, patient, doctor);
    expect((await patient.client.post(`/api/appointments/${a.id}/cancel`, {})).statusCode).toBe(
      200,
    );
    for (const who of [patient, doctor]) {
      const res = await who.client.post(`/api/appointments/${a.id}/cancel`, {});
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ code: 'invalid_transition' });
    }
    const { appointment } = await buildAcceptedAppointment(t, patient, doctor);
    const rooms = await roomCount();
    const again = await doctor.client.post(`/api/appointments/${appointment.id}/accept`, {});
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'invalid_transition' });
    expect(await roomCount()).toBe(rooms);
  });

  it('a patient cannot accept or decline (403), even their own request', async () => {
    const a = await requestAppointment(t, patient, doctor);
    for (const action of ['accept', 'decline']) {
      const res = await patient.client.post(`/api/appointments/${a.id}/${action}`, {});
      expect(res.statusCode, action).toBe(403);
      expect(res.json()).toMatchObject({ code: 'forbidden' });
    }
    expect(await statusOf(a.id)).toBe('requested');
  });

  it("another practitioner, and another patient, get 404 on someone else's appointment", async () => {
    const a = await requestAppointment(t, patient, doctor);
    const otherDoctor = await buildPractitioner(t);
    const otherPatient = await buildPatient(t);
    for (const who of [otherDoctor, otherPatient]) {
      for (const action of ['accept', 'decline', 'cancel']) {
        const res = await who.client.post(`/api/appointments/${a.id}/${action}`, {});
        expect(res.statusCode, `${who.user.role} ${action}`).toBe(404);
        expect(res.json()).toMatchObject({ code: 'not_found' });
      }
      expect((await who.client.get(`/api/appointments/${a.id}`)).statusCode).toBe(404);
      const listed = (await who.client.get('/api/appointments')).json<AppointmentWire[]>();
      expect(listed.map((x) => x.id)).not.toContain(a.id);
    }
    expect(await statusOf(a.id)).toBe('requested');
  });

  it('an accept and a decline racing on one request: exactly one wins; a room only if accepted', async () => {
    const a = await requestAppointment(t, patient, doctor);
    const rooms = await roomCount();
    const results = await Promise.all([
      doctor.client.post(`/api/appointments/${a.id}/accept`, {}),
      doctor.client.post(`/api/appointments/${a.id}/decline`, {}),
      doctor.client.post(`/api/appointments/${a.id}/accept`, {}),
    ]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 409, 409]);
    const winner = results.find((r) => r.statusCode === 200)!.json<AppointmentWire>();
    expect(await statusOf(a.id)).toBe(winner.status);
    expect(await roomCount()).toBe(rooms + (winner.status === 'accepted' ? 1 : 0));
  });
});

describe('what the caller may do with an appointment', () => {
  it('permissions follow the state machine and the policy, per caller', async () => {
    const patient = await buildPatient(t);
    const doctor = await buildPractitioner(t);
    const admin = await buildAdmin(t);
    const a = await requestAppointment(t, patient, doctor);
    const as = async (who: Person) =>
      (await who.client.get(`/api/appointments/${a.id}`)).json<AppointmentWire>().permissions;
    expect(await as(patient)).toEqual({ decide: false, cancel: true });
    expect(await as(doctor)).toEqual({ decide: true, cancel: true });
    expect(await as(admin)).toEqual({ decide: false, cancel: true });
    await doctor.client.post(`/api/appointments/${a.id}/accept`, {});
    expect(await as(doctor)).toEqual({ decide: false, cancel: true });
    await patient.client.post(`/api/appointments/${a.id}/cancel`, {});
    for (const who of [patient, doctor, admin])
      expect(await as(who)).toEqual({ decide: false, cancel: false });
  });
});

describe('accepting opens exactly one room', () => {
  it('shows the room to both sides with its appointment, the other participant and nothing unread', async () => {
    const patient = await buildPatient(t, { name: 'Paula Patient' });
    const doctor = await buildPractitioner(t, { name: 'Dr Omar Haddad', specialty: 'Dermatology' });
    const a = await requestAppointment(t, patient, doctor, { reason: 'Rash on my arm' });
    expect(await roomsOf(patient.client)).toEqual([]);

    const res = await doctor.client.post(`/api/appointments/${a.id}/accept`, {});
    expect(res.statusCode).toBe(200);
    const accepted = res.json<AppointmentWire>();
    expect(accepted.status).toBe('accepted');
    expect(accepted.roomId).toEqual(expect.any(String));

    const stored = await t.services.store.db
      .selectFrom('rooms')
      .selectAll()
      .where('appointment_id', '=', a.id)
      .execute();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.id).toBe(accepted.roomId);

    for (const who of [patient, doctor]) {
      const rooms = await roomsOf(who.client);
      expect(rooms).toHaveLength(1);
      expect(rooms[0]).toMatchObject({
        id: accepted.roomId,
        appointmentId: a.id,
        appointment: { id: a.id, status: 'accepted', reason: 'Rash on my arm' },
        patient: { id: patient.user.id, name: 'Paula Patient', dateOfBirth: '1980-01-01' },
        practitioner: { id: doctor.user.id, name: 'Dr Omar Haddad', specialty: 'Dermatology' },
        lastMessage: null,
        lastSeq: 0,
        unreadCount: 0,
        archived: false,
      });
    }
    // The appointment lists carry the room too.
    const listed = (await patient.client.get('/api/appointments')).json<AppointmentWire[]>();
    expect(listed.find((x) => x.id === a.id)?.roomId).toBe(accepted.roomId);
  });

  it('two accepted appointments between the same pair make two rooms', async () => {
    const patient = await buildPatient(t);
    const doctor = await buildPractitioner(t);
    const first = await buildAcceptedAppointment(t, patient, doctor, { startsInMs: DAY });
    const second = await buildAcceptedAppointment(t, patient, doctor, { startsInMs: 2 * DAY });
    expect(first.roomId).not.toBe(second.roomId);
    for (const who of [patient, doctor]) {
      const ids = (await roomsOf(who.client)).map((r) => r.id).sort();
      expect(ids).toEqual([first.roomId, second.roomId].sort());
    }
  });
});

describe('start a chat: POST /api/rooms', () => {
  it('returns the room of the newest accepted appointment with that practitioner', async () => {
    const patient = await buildPatient(t);
    const doctor = await buildPractitioner(t);
    const older = await buildAcceptedAppointment(t, patient, doctor, { startsInMs: DAY });
    const newer = await buildAcceptedAppointment(t, patient, doctor, { startsInMs: 5 * DAY });
    // A newer request that was never accepted does not count.
    await requestAppointment(t, patient, doctor, { startsInMs: 9 * DAY });
    const res = await patient.client.post('/api/rooms', { practitionerId: doctor.user.id });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: newer.roomId, appointmentId: newer.appointment.id });
    expect(newer.roomId).not.toBe(older.roomId);

    // Once the newest is cancelled, the chat is the older appointment's room.
    await patient.client.post(`/api/appointments/${newer.appointment.id}/cancel`, {});
    const again = await patient.client.post('/api/rooms', { practitionerId: doctor.user.id });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ id: older.roomId });
  });

  it('without an accepted appointment: 403 appointment_not_accepted, whether requested, declined or none', async () => {
    const patient = await buildPatient(t);
    const doctor = await buildPractitioner(t);
    const rooms = await roomCount();
    const ask = () => patient.client.post('/api/rooms', { practitionerId: doctor.user.id });

    let res = await ask();
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'appointment_not_accepted' });

    const a = await requestAppointment(t, patient, doctor);
    res = await ask();
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'appointment_not_accepted' });

    await doctor.client.post(`/api/appointments/${a.id}/decline`, {});
    res = await ask();
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'appointment_not_accepted' });
    expect(await roomCount()).toBe(rooms);

    // Someone else's accepted appointment with the same practitioner gives this patient nothing.
    await buildAcceptedAppointment(t, undefined, doctor);
    res = await ask();
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'appointment_not_accepted' });
  });

  it('GET /api/practitioners marks those the patient may chat with', async () => {
    const patient = await buildPatient(t);
    const accepted = await buildPractitioner(t);
    const requested = await buildPractitioner(t);
    await buildAcceptedAppointment(t, patient, accepted);
    await requestAppointment(t, patient, requested);
    const res = await patient.client.get('/api/practitioners');
    expect(res.statusCode).toBe(200);
    const list = res.json<PractitionerWire[]>();
    expect(list.find((p) => p.id === accepted.user.id)?.canChat).toBe(true);
    expect(list.find((p) => p.id === requested.user.id)?.canChat).toBe(false);
    expect(list.every((p) => !('email' in p))).toBe(true);
  });
});

describe('lists', () => {
  it('a practitioner lists requests; both sides list upcoming appointments, soonest first', async () => {
    const patient = await buildPatient(t);
    const doctor = await buildPractitioner(t);
    const r1 = await requestAppointment(t, patient, doctor, { startsInMs: 3 * DAY });
    const r2 = await requestAppointment(t, patient, doctor, { startsInMs: 2 * DAY });
    const { appointment: acc } = await buildAcceptedAppointment(t, patient, doctor, {
      startsInMs: DAY,
    });
    const declined = await requestAppointment(t, patient, doctor, { startsInMs: 4 * DAY });
    await doctor.client.post(`/api/appointments/${declined.id}/decline`, {});
    // Someone else's request to another practitioner never shows.
    const stranger = await buildAcceptedAppointment(t);

    const requests = (await doctor.client.get('/api/appointments?status=requested')).json<
      AppointmentWire[]
    >();
    expect(requests.map((a) => a.id)).toEqual([r2.id, r1.id]);

    for (const who of [patient, doctor]) {
      const upcoming = (await who.client.get('/api/appointments?scope=upcoming')).json<
        AppointmentWire[]
      >();
      const live = upcoming.filter((a) => a.status !== 'declined');
      expect(live.map((a) => a.id)).toEqual([acc.id, r2.id, r1.id]);
      expect(upcoming.map((a) => a.id)).not.toContain(stranger.appointment.id);
    }
    // Two and a half days later, two of them are in the past.
    const later = await startMessagingApp({
      store: t.store,
      clock: new ManualClock(t.clock.now() + 2.5 * DAY),
    });
    try {
      for (const who of [patient, doctor]) {
        const client = await later.login(who.user);
        const upcoming = (await client.get('/api/appointments?scope=upcoming')).json<
          AppointmentWire[]
        >();
        const live = upcoming.filter((a) => a.status !== 'declined');
        expect(live.map((a) => a.id)).toEqual([r1.id]);
        const past = (await client.get('/api/appointments?scope=past')).json<AppointmentWire[]>();
        expect(past.map((a) => a.id)).toEqual([acc.id, r2.id]);
      }
    } finally {
      await later.stop();
    }
  });

  it('an admin sees every appointment, and no message bodies anywhere', async () => {
    const admin = await buildAdmin(t);
    const one = await buildAcceptedAppointment(t);
    const two = await buildAcceptedAppointment(t);
    const secret = 'my biopsy result came back';
    await one.patientClient.post(`/api/rooms/${one.roomId}/messages`, {
      clientId: crypto.randomUUID(),
      body: secret,
    });
    const res = await admin.client.get('/api/appointments');
    expect(res.statusCode).toBe(200);
    const ids = res.json<AppointmentWire[]>().map((a) => a.id);
    expect(ids).toEqual(expect.arrayContaining([one.appointment.id, two.appointment.id]));
    expect(res.body).not.toContain(secret);
    const rooms = await admin.client.get('/api/admin/rooms?limit=200');
    expect(rooms.statusCode).toBe(200);
    expect(rooms.body).toContain(one.roomId);
    expect(rooms.body).not.toContain(secret);
    // The admin can cancel (e.g. on the practice's behalf) but not accept.
    const req = await requestAppointment(t, one.patient, one.practitioner);
    expect((await admin.client.post(`/api/appointments/${req.id}/accept`, {})).statusCode).toBe(
      403,
    );
    const cancelled = await admin.client.post(`/api/appointments/${req.id}/cancel`, {});
    expect(cancelled.statusCode).toBe(200);
    expect(cancelled.json()).toMatchObject({ status: 'cancelled' });
  });
});
