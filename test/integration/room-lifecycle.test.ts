import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoomWire } from '../../src/shared/wire.js';
import type { TestApp } from '../support/app.js';
import {
  DAY,
  auditRows,
  buildAcceptedAppointment,
  buildPatient,
  buildPractitioner,
  detailOf,
  manualClock,
  page,
  requestAppointment,
  roomOf,
  send,
  sendMessage,
  startMessagingApp,
  storedMessages,
  type AcceptedAppointment,
} from '../support/factories.js';
import { WsClient } from '../support/ws-client.js';

let t: TestApp;

beforeAll(async () => {
  t = await startMessagingApp({ listen: true });
});
afterAll(async () => {
  await t.stop();
});

async function cancelled(): Promise<AcceptedAppointment> {
  const room = await buildAcceptedAppointment(t);
  await send(room.patientClient, room.roomId, 'See you on Monday');
  const res = await room.patientClient.post(`/api/appointments/${room.appointment.id}/cancel`, {});
  expect(res.statusCode, res.body).toBe(200);
  return room;
}

describe('a room while its appointment stands', () => {
  it('is open, and tells each participant what they may do', async () => {
    const room = await buildAcceptedAppointment(t);
    for (const client of [room.patientClient, room.practitionerClient]) {
      const r = await roomOf(client, room.roomId);
      expect(r).toMatchObject({
        status: 'open',
        closedReason: null,
        permissions: { write: true, export: true, archive: true, reopen: false },
      });
    }
  });
});

describe('cancelling the appointment closes its room at once', () => {
  it('refuses new messages over HTTP with 409 room_closed from both sides, and keeps the history readable', async () => {
    const room = await cancelled();
    const before = await storedMessages(t, room.roomId);
    for (const client of [room.patientClient, room.practitionerClient]) {
      const res = await sendMessage(client, room.roomId, 'one more thing');
      expect(res.statusCode, res.body).toBe(409);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ code: 'room_closed' });
      const r = await roomOf(client, room.roomId);
      expect(r).toMatchObject({
        status: 'closed',
        closedReason: 'appointment_cancelled',
        permissions: { write: false },
      });
      expect((await page(client, room.roomId)).messages.map((m) => m.body)).toEqual([
        'See you on Monday',
      ]);
    }
    expect(await storedMessages(t, room.roomId)).toEqual(before);
    const closed = await auditRows(t, { action: 'room.close', targetId: room.roomId });
    expect(closed.map(detailOf)).toEqual([{ reason: 'appointment_cancelled' }]);
  });

  it('answers a re-send of a message stored before the closing with the original, not an error', async () => {
    const room = await buildAcceptedAppointment(t);
    const clientId = randomUUID();
    expect((await sendMessage(room.patientClient, room.roomId, 'hi', clientId)).statusCode).toBe(
      201,
    );
    await room.practitionerClient.post(`/api/appointments/${room.appointment.id}/cancel`, {});
    const again = await sendMessage(room.patientClient, room.roomId, 'hi', clientId);
    expect(again.statusCode, again.body).toBe(200);
  });

  it('refuses new messages over the WebSocket with an error frame room_closed', async () => {
    const room = await cancelled();
    const ws = await WsClient.live(t.url, room.patientClient.cookie);
    try {
      const clientId = randomUUID();
      ws.send({ type: 'send', roomId: room.roomId, clientId, body: 'are you there?' });
      const error = await ws.nextOf('error');
      expect(error).toMatchObject({ clientId, code: 'room_closed' });
      expect(ws.framesOf('ack')).toEqual([]);
    } finally {
      await ws.close();
    }
    expect((await storedMessages(t, room.roomId)).length).toBe(1);
  });

  it('tells a live participant that the room closed', async () => {
    const room = await buildAcceptedAppointment(t);
    const ws = await WsClient.live(t.url, room.practitionerClient.cookie);
    try {
      await room.patientClient.post(`/api/appointments/${room.appointment.id}/cancel`, {});
      const frame = await ws.next((e) => e.type === 'room' && e.room.id === room.roomId);
      expect(frame).toMatchObject({
        room: { status: 'closed', closedReason: 'appointment_cancelled' },
      });
    } finally {
      await ws.close();
    }
  });
});

describe('reopening', () => {
  it('the practitioner reopens a closed room: audited, open for messages again from both sides', async () => {
    const room = await cancelled();
    const res = await room.practitionerClient.post(`/api/rooms/${room.roomId}/reopen`, {});
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<RoomWire>()).toMatchObject({
      status: 'open',
      closedReason: null,
      permissions: { write: true },
    });
    await send(room.patientClient, room.roomId, 'Thank you for reopening');
    await send(room.practitionerClient, room.roomId, 'Of course');
    const rows = await auditRows(t, { action: 'room.reopen', targetId: room.roomId });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ actor_id: room.practitioner.user.id });
    expect(detailOf(rows[0]!)).toEqual({ was: 'appointment_cancelled' });
  });

  it('the patient cannot reopen (403, the room stays closed); strangers get 404 as for a missing room', async () => {
    const room = await cancelled();
    const r = await roomOf(room.patientClient, room.roomId);
    expect(r.permissions.reopen).toBe(false);
    expect((await roomOf(room.practitionerClient, room.roomId)).permissions.reopen).toBe(true);
    const patient = await room.patientClient.post(`/api/rooms/${room.roomId}/reopen`, {});
    expect(patient.statusCode).toBe(403);
    expect(patient.json()).toMatchObject({ code: 'forbidden' });
    for (const stranger of [await buildPatient(t), await buildPractitioner(t)]) {
      const res = await stranger.client.post(`/api/rooms/${room.roomId}/reopen`, {});
      const ghost = await stranger.client.post(`/api/rooms/${randomUUID()}/reopen`, {});
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ code: 'not_found' });
      expect(ghost.json<{ title: string }>().title).toBe(res.json<{ title: string }>().title);
    }
    expect((await roomOf(room.patientClient, room.roomId)).status).toBe('closed');
    expect(await auditRows(t, { action: 'room.reopen', targetId: room.roomId })).toEqual([]);
  });

  it('an open room is not reopened (409 conflict)', async () => {
    const room = await buildAcceptedAppointment(t);
    const res = await room.practitionerClient.post(`/api/rooms/${room.roomId}/reopen`, {});
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'conflict' });
  });
});

describe('expiry after ROOM_OPEN_DAYS', () => {
  it('closes a room 30 days after its appointment, without any job, and reopening gives it a new window', async () => {
    const clock = manualClock(t);
    const room = await buildAcceptedAppointment(t, undefined, undefined, { startsInMs: DAY });
    // Weeks pass between these steps, far beyond any session: everyone signs in again.
    const patient = () => t.login(room.patient.user);
    const practitioner = () => t.login(room.practitioner.user);
    // The appointment is at DAY from now; the room stays open until 30 days after it.
    clock.advance(DAY + 30 * DAY - 1_000);
    await send(await patient(), room.roomId, 'Still open, just');
    clock.advance(1_000);
    const p = await patient();
    const res = await sendMessage(p, room.roomId, 'Too late');
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'room_closed' });
    expect(await roomOf(p, room.roomId)).toMatchObject({
      status: 'closed',
      closedReason: 'expired',
      permissions: { write: false },
    });
    const reopened = await (await practitioner()).post(`/api/rooms/${room.roomId}/reopen`, {});
    expect(reopened.statusCode, reopened.body).toBe(200);
    expect(
      detailOf((await auditRows(t, { action: 'room.reopen', targetId: room.roomId }))[0]!),
    ).toEqual({
      was: 'expired',
    });
    clock.advance(29 * DAY);
    await send(await patient(), room.roomId, 'Reopened for another month');
    clock.advance(DAY);
    expect((await sendMessage(await patient(), room.roomId, 'and now?')).statusCode).toBe(409);
  });

  it('follows ROOM_OPEN_DAYS', async () => {
    const short = await startMessagingApp({ env: { ROOM_OPEN_DAYS: '2' } });
    try {
      const room = await buildAcceptedAppointment(short, undefined, undefined, { startsInMs: DAY });
      manualClock(short).advance(3 * DAY);
      const res = await sendMessage(await short.login(room.patient.user), room.roomId, 'hello');
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ code: 'room_closed' });
    } finally {
      await short.stop();
    }
  });
});

describe('starting a conversation', () => {
  it('only offers practitioners with an open room, and a new accepted appointment opens a new room', async () => {
    const room = await cancelled();
    const patient = room.patient;
    const doctorId = room.practitioner.user.id;
    const offered = async () =>
      (await patient.client.get('/api/practitioners'))
        .json<{ id: string; canChat: boolean }[]>()
        .find((p) => p.id === doctorId)!.canChat;
    expect(await offered()).toBe(false);
    const start = await patient.client.post('/api/rooms', { practitionerId: doctorId });
    expect(start.statusCode).toBe(403);
    expect(start.json()).toMatchObject({ code: 'appointment_not_accepted' });

    const again = await buildAcceptedAppointment(t, patient, room.practitioner);
    expect(again.roomId).not.toBe(room.roomId);
    expect(await offered()).toBe(true);
    const started = await patient.client.post('/api/rooms', { practitionerId: doctorId });
    expect(started.statusCode, started.body).toBe(200);
    expect(started.json<RoomWire>().id).toBe(again.roomId);
    // The old room stays closed and readable.
    expect((await roomOf(patient.client, room.roomId)).status).toBe('closed');
  });

  it('a declined request never opens a room', async () => {
    const patient = await buildPatient(t);
    const doctor = await buildPractitioner(t);
    const a = await requestAppointment(t, patient, doctor);
    const res = await doctor.client.post(`/api/appointments/${a.id}/decline`, {});
    expect(res.json()).toMatchObject({ status: 'declined', roomId: null });
  });
});
