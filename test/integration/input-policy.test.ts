import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AppointmentWire, MessageWire, UserWire } from '../../src/shared/wire.js';
import type { TestApp } from '../support/app.js';
import {
  DAY,
  buildAcceptedAppointment,
  buildAdmin,
  buildPatient,
  buildPractitioner,
  inFuture,
  page,
  requestAppointment,
  send,
  startMessagingApp,
  storedMessages,
  type Person,
} from '../support/factories.js';
import { WsClient } from '../support/ws-client.js';

/** Values no human-written field may hold, whatever the field. */
const HOSTILE: [string, string][] = [
  ['NUL', 'Anne\u0000Smith'],
  ['an ANSI escape', '\u001b[31mAnne'],
  ['a C1 control', 'Anne\u009b2J'],
  ['a lone surrogate', 'Anne\ud800'],
  ['only zero-width spaces', '\u200b\u200b'],
  ['only a Hangul filler', '\u3164'],
  ['only blank Braille', '\u2800'],
  ['only a byte-order mark and a zero-width space', '\ufeff\u200b'],
];

let t: TestApp;
const sockets: WsClient[] = [];
beforeAll(async () => {
  t = await startMessagingApp({ listen: true });
});
afterEach(async () => {
  await Promise.all(sockets.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await t.stop();
});

function expectRefused(res: { statusCode: number; json: () => unknown }, path: string): void {
  expect(res.statusCode).toBe(400);
  const problem = res.json() as { code: string; errors?: { path: string }[] };
  expect(problem.code).toBe('validation_failed');
  expect(problem.errors?.map((e) => e.path).join(' ')).toContain(path);
}

describe('one text policy for every human-written field', () => {
  let admin: Person;
  let patient: Person;
  let doctor: Person;
  beforeAll(async () => {
    admin = await buildAdmin(t);
    patient = await buildPatient(t);
    doctor = await buildPractitioner(t);
  });

  it.each(HOSTILE)('refuses a name with %s, and changes nothing', async (_what, value) => {
    expectRefused(await patient.client.request('PATCH', '/api/me', { name: value }), 'name');
    const created = await admin.client.post('/api/admin/users', {
      role: 'patient',
      email: `hostile.${randomUUID()}@example.com`,
      name: value,
      password: 'correct horse battery',
    });
    expectRefused(created, 'name');
    expectRefused(
      await admin.client.request('PATCH', `/api/admin/users/${doctor.user.id}`, {
        specialty: value,
      }),
      'specialty',
    );
    const me = (await patient.client.get('/api/me')).json<UserWire>();
    expect(me.name).toBe(patient.user.name);
    expect((await t.services.store.users.findById(doctor.user.id))!.specialty).toBe(
      doctor.user.specialty,
    );
  });

  it.each(HOSTILE)(
    'refuses an appointment reason, a decline note and an out-of-office notice with %s',
    async (_what, value) => {
      const before = await t.services.store.system().appointments.list({ userId: patient.user.id });
      expectRefused(
        await patient.client.post('/api/appointments', {
          practitionerId: doctor.user.id,
          startsAt: inFuture(t),
          reason: value,
        }),
        'reason',
      );
      expect(
        await t.services.store.system().appointments.list({ userId: patient.user.id }),
      ).toHaveLength(before.length);

      const requested = await requestAppointment(t, patient, doctor);
      expectRefused(
        await doctor.client.post(`/api/appointments/${requested.id}/decline`, { note: value }),
        'note',
      );
      expect((await t.services.store.system().appointments.findById(requested.id))!.status).toBe(
        'requested',
      );

      expectRefused(
        await doctor.client.request('PATCH', '/api/me', { outOfOffice: value }),
        'outOfOffice',
      );
      expect((await t.services.store.users.findById(doctor.user.id))!.out_of_office).toBeNull();
    },
  );

  it('refuses line breaks in a name but keeps them in reasons, notes and notices, as NFC', async () => {
    expectRefused(
      await patient.client.request('PATCH', '/api/me', { name: 'Anne\nSmith' }),
      'name',
    );
    const renamed = await patient.client.request('PATCH', '/api/me', { name: '  Rene\u0301e  ' });
    expect(renamed.json<UserWire>().name).toBe('Renée');

    const a = await requestAppointment(t, patient, doctor, {
      reason: 'Headache\r\n\tsince Tuesday, cafe\u0301',
    });
    expect(a.reason).toBe('Headache\n\tsince Tuesday, café');
    const declined = await doctor.client.post(`/api/appointments/${a.id}/decline`, {
      note: 'Please see\r\nthe nurse first',
    });
    expect(declined.json<AppointmentWire>().note).toBe('Please see\nthe nurse first');
    const away = await doctor.client.request('PATCH', '/api/me', {
      outOfOffice: 'Away\r\nuntil Monday',
    });
    expect(away.json<UserWire>().outOfOffice).toBe('Away\nuntil Monday');
  });

  it('refuses the same values in the domain, whoever calls it', async () => {
    await expect(
      t.services.accounts.update(patient.ctx, patient.user.id, { name: '\u3164' }),
    ).rejects.toMatchObject({ code: 'validation_failed' });
    await expect(
      t.services.appointments.request(patient.ctx, {
        practitionerId: doctor.user.id,
        startsAt: inFuture(t),
        reason: 'x\u0000',
      }),
    ).rejects.toMatchObject({ code: 'validation_failed' });
  });
});

describe('message bodies', () => {
  it.each(HOSTILE)(
    'refuses a body with %s over HTTP and over the WebSocket',
    async (_what, body) => {
      const room = await buildAcceptedAppointment(t);
      const res = await room.patientClient.post(`/api/rooms/${room.roomId}/messages`, {
        clientId: randomUUID(),
        body,
      });
      expectRefused(res, 'body');

      const ws = await WsClient.live(t.url, room.patientClient.cookie);
      sockets.push(ws);
      const clientId = randomUUID();
      ws.send({ type: 'send', roomId: room.roomId, clientId, body });
      const error = await ws.nextOf('error', (e) => e.clientId === clientId);
      expect(error.code).toBe('validation_failed');
      expect(ws.framesOf('ack')).toEqual([]);
      expect(await storedMessages(t, room.roomId)).toEqual([]);
    },
  );

  it('acknowledges exactly what history later returns', async () => {
    const room = await buildAcceptedAppointment(t);
    const ws = await WsClient.live(t.url, room.patientClient.cookie);
    sockets.push(ws);
    const clientId = randomUUID();
    const body = '  Cafe\u0301 👩‍⚕️ \u{1F600}\r\nline two\t ';
    ws.send({ type: 'send', roomId: room.roomId, clientId, body });
    const ack = await ws.nextOf('ack', (e) => e.clientId === clientId);
    const viaHttp = await send(room.patientClient, room.roomId, body);
    const history = await page(room.practitionerClient, room.roomId);
    expect(history.messages.map((m: MessageWire) => m.body)).toEqual([
      ack.message.body,
      viaHttp.body,
    ]);
    expect(ack.message.body).toBe('Café 👩‍⚕️ 😀\nline two');
  });
});

describe('appointment times', () => {
  let patient: Person;
  let doctor: Person;
  beforeAll(async () => {
    patient = await buildPatient(t);
    doctor = await buildPractitioner(t);
  });

  const requestAt = (startsAt: string) =>
    patient.client.post('/api/appointments', {
      practitionerId: doctor.user.id,
      startsAt,
      reason: 'Check-up',
    });

  it.each([
    ['in the year 9999', '9999-12-31T09:00:00.000Z'],
    ['two years and a day ahead', () => new Date(t.clock.now() + 2 * 366 * DAY).toISOString()],
  ])('refuses a start %s with 400 validation_failed', async (_what, at) => {
    const before = await t.services.store.system().appointments.list({ userId: patient.user.id });
    const res = await requestAt(typeof at === 'string' ? at : at());
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'validation_failed',
      errors: [{ path: 'startsAt', message: 'Choose a time at most 2 years ahead' }],
    });
    expect(
      await t.services.store.system().appointments.list({ userId: patient.user.id }),
    ).toHaveLength(before.length);
  });

  it('accepts a start just inside two years, and still refuses the past', async () => {
    const latest = new Date(t.clock.now());
    latest.setUTCFullYear(latest.getUTCFullYear() + 2);
    expect((await requestAt(latest.toISOString())).statusCode).toBe(201);
    const past = await requestAt(new Date(t.clock.now() - 60_000).toISOString());
    expect(past.statusCode).toBe(400);
    expect(past.json()).toMatchObject({ code: 'appointment_in_past' });
  });
});
