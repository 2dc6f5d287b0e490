import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppointmentWire } from '../../src/shared/wire.js';
import type { TestApp } from '../support/app.js';
import {
  buildAcceptedAppointment,
  buildPatient,
  buildPractitioner,
  requestAppointment,
  send,
  startMessagingApp,
  type AcceptedAppointment,
} from '../support/factories.js';

const auditRows = (t: TestApp, action: string, actorId: string) =>
  t.services.store.db
    .selectFrom('audit_events')
    .selectAll()
    .where('action', '=', action)
    .where('actor_id', '=', actorId)
    .execute();

describe('reads of health information outside a conversation are audited', () => {
  let t: TestApp;
  let a: AcceptedAppointment;

  beforeAll(async () => {
    t = await startMessagingApp();
    a = await buildAcceptedAppointment(t);
    await send(a.patientClient, a.roomId, 'The rash is spreading');
  });
  afterAll(() => t.stop());

  it('showing last-message previews in the room list writes a row, without the text', async () => {
    const before = (await auditRows(t, 'room.list', a.practitioner.user.id)).length;
    const res = await a.practitionerClient.get('/api/rooms');
    expect(res.json<{ lastMessage: { preview: string } }[]>()[0]!.lastMessage.preview).toBe(
      'The rash is spreading',
    );
    const rows = await auditRows(t, 'room.list', a.practitioner.user.id);
    expect(rows).toHaveLength(before + 1);
    expect(rows.at(-1)!.detail).not.toContain('rash');
  });

  it('viewing one room with its preview writes a row naming the room', async () => {
    await a.patientClient.get(`/api/rooms/${a.roomId}`);
    const rows = await auditRows(t, 'room.view', a.patient.user.id);
    expect(rows.map((r) => r.target_id)).toContain(a.roomId);
  });

  it('listing appointments (their reasons) writes a row', async () => {
    const before = (await auditRows(t, 'appointment.list', a.patient.user.id)).length;
    await a.patientClient.get('/api/appointments');
    expect(await auditRows(t, 'appointment.list', a.patient.user.id)).toHaveLength(before + 1);
  });
});

describe('upcoming appointments', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startMessagingApp();
  });
  afterAll(() => t.stop());

  it('leave out declined and cancelled ones', async () => {
    const patient = await buildPatient(t);
    const practitioner = await buildPractitioner(t);
    const kept = await requestAppointment(t, patient, practitioner, { reason: 'kept' });
    const declined = await requestAppointment(t, patient, practitioner, { reason: 'declined' });
    const cancelled = await requestAppointment(t, patient, practitioner, { reason: 'cancelled' });
    expect(
      (await practitioner.client.post(`/api/appointments/${declined.id}/decline`, {})).statusCode,
    ).toBe(200);
    expect(
      (await patient.client.post(`/api/appointments/${cancelled.id}/cancel`, {})).statusCode,
    ).toBe(200);

    const upcoming = (await patient.client.get('/api/appointments?scope=upcoming')).json<
      AppointmentWire[]
    >();
    expect(upcoming.map((x) => x.id)).toEqual([kept.id]);
    const all = (await patient.client.get('/api/appointments')).json<AppointmentWire[]>();
    expect(all).toHaveLength(3);
  });
});
