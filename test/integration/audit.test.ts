import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageWire } from '../../src/shared/wire.js';
import type { TestApp } from '../support/app.js';
import {
  auditRows,
  buildPatient,
  buildPractitioner,
  detailOf,
  page,
  requestAppointment,
  sendMessage,
  startMessagingApp,
  type Person,
} from '../support/factories.js';

let t: TestApp;
let patient: Person;
let doctor: Person;
beforeAll(async () => {
  t = await startMessagingApp();
  patient = await buildPatient(t);
  doctor = await buildPractitioner(t);
});
afterAll(async () => {
  await t.stop();
});

// Distinctive enough that any row holding it (or a piece of it) is found.
const BODY_A = 'AUDIT-CANARY-7f3e my HIV test came back positive';
const BODY_B = 'AUDIT-CANARY-91c2 we will start treatment on Monday';

describe('the audit trail', () => {
  it('records every appointment change and the room it opens, with actor, target, time and address', async () => {
    const a = await requestAppointment(t, patient, doctor);
    const accepted = await doctor.client.post(`/api/appointments/${a.id}/accept`, {});
    const roomId = accepted.json<{ roomId: string }>().roomId;
    const b = await requestAppointment(t, patient, doctor);
    await doctor.client.post(`/api/appointments/${b.id}/decline`, {});
    const c = await requestAppointment(t, patient, doctor);
    await patient.client.post(`/api/appointments/${c.id}/cancel`, {});

    const expectRow = async (action: string, targetId: string, actor: Person) => {
      const rows = await auditRows(t, { action, targetId });
      expect(rows, `${action} ${targetId}`).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        actor_id: actor.user.id,
        actor_role: actor.user.role,
        at: t.clock.now(),
        ip: '127.0.0.1',
      });
      return rows[0]!;
    };
    for (const id of [a.id, b.id, c.id]) await expectRow('appointment.request', id, patient);
    expect(detailOf(await expectRow('appointment.accept', a.id, doctor))).toMatchObject({
      from: 'requested',
      to: 'accepted',
    });
    expect(detailOf(await expectRow('room.open', roomId, doctor))).toMatchObject({
      appointmentId: a.id,
    });
    await expectRow('appointment.decline', b.id, doctor);
    await expectRow('appointment.cancel', c.id, patient);

    // A refused change leaves no row claiming it happened.
    const refused = await doctor.client.post(`/api/appointments/${b.id}/accept`, {});
    expect(refused.statusCode).toBe(409);
    expect(await auditRows(t, { action: 'appointment.accept', targetId: b.id })).toEqual([]);
    expect(await auditRows(t, { action: 'room.open' })).toHaveLength(1);
  });

  it('records every send (seq, no body) and every read of messages; no row holds a body', async () => {
    const a = await requestAppointment(t, patient, doctor);
    const roomId = (await doctor.client.post(`/api/appointments/${a.id}/accept`, {})).json<{
      roomId: string;
    }>().roomId;

    const clientId = randomUUID();
    const sends = await Promise.all([
      sendMessage(patient.client, roomId, BODY_A, clientId),
      sendMessage(patient.client, roomId, BODY_A, clientId),
      sendMessage(doctor.client, roomId, BODY_B),
    ]);
    const messages = sends.map((r) => r.json<MessageWire>());
    const sendRows = await auditRows(t, { action: 'message.send', targetId: roomId });
    // One row per stored message: the re-send made none.
    expect(sendRows).toHaveLength(2);
    const bySeq = new Map(sendRows.map((r) => [detailOf(r).seq, r]));
    for (const m of messages) {
      const row = bySeq.get(m.seq);
      expect(row, `seq ${m.seq}`).toBeDefined();
      expect(row).toMatchObject({ actor_id: m.senderId, target_type: 'room', ip: '127.0.0.1' });
      expect(detailOf(row!)).toMatchObject({ seq: m.seq, messageId: m.id });
    }

    // A refused send leaves no row.
    const bad = await sendMessage(patient.client, roomId, 'ring \u0007');
    expect(bad.statusCode).toBe(400);
    expect(await auditRows(t, { action: 'message.send', targetId: roomId })).toHaveLength(2);

    await page(patient.client, roomId);
    await page(doctor.client, roomId, 'after=1');
    await page(doctor.client, roomId, 'before=2');
    const reads = await auditRows(t, { action: 'room.read_messages', targetId: roomId });
    expect(reads.map((r) => [r.actor_id, detailOf(r)])).toEqual([
      [patient.user.id, { count: 2 }],
      [doctor.user.id, { count: 1, after: 1 }],
      [doctor.user.id, { count: 1, before: 2 }],
    ]);

    // The dashboard shows message text, so it is a read too.
    const dash = await patient.client.get('/api/dashboard');
    expect(dash.body).toContain(BODY_B);
    expect(
      await auditRows(t, { action: 'dashboard.read_recent_messages', actorId: patient.user.id }),
    ).toHaveLength(1);

    // Archiving, reading marks: metadata only as well.
    await patient.client.post(`/api/rooms/${roomId}/read`, { seq: 2 });
    await patient.client.post(`/api/rooms/${roomId}/archive`, {});

    const all = await auditRows(t);
    expect(all.length).toBeGreaterThan(10);
    for (const row of all) {
      const text = JSON.stringify(row);
      expect(text).not.toContain('AUDIT-CANARY');
      expect(text).not.toContain('HIV');
      expect(text).not.toContain('treatment');
    }
  });

  it('the admin audit API shows these rows without bodies', async () => {
    const admin = await t.login(await t.createUser('admin'));
    const res = await admin.get('/api/admin/audit?action=message.send&limit=200');
    expect(res.statusCode).toBe(200);
    expect(res.json<{ events: unknown[] }>().events.length).toBeGreaterThanOrEqual(2);
    expect(res.body).not.toContain('AUDIT-CANARY');
    const csv = await admin.get('/api/admin/audit.csv');
    expect(csv.statusCode).toBe(200);
    expect(csv.body).toContain('message.send');
    expect(csv.body).not.toContain('AUDIT-CANARY');
  });
});
