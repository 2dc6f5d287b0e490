import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp, TestClient } from '../support/app.js';
import {
  auditRows,
  buildAcceptedAppointment,
  buildAdmin,
  buildPatient,
  buildPractitioner,
  page,
  roomOf,
  roomsOf,
  send,
  startMessagingApp,
  storedMessages,
  type AcceptedAppointment,
  type Person,
} from '../support/factories.js';

let t: TestApp;
let room: AcceptedAppointment;
const secret = 'The lump is 2 cm; please call me about the scan';

beforeAll(async () => {
  t = await startMessagingApp();
  room = await buildAcceptedAppointment(t);
  await send(room.patientClient, room.roomId, secret);
  await send(room.practitionerClient, room.roomId, 'Booked you for Thursday');
});
afterAll(async () => {
  await t.stop();
});

/** Everything one can do to a room's contents, by URL. */
const contentRoutes = (roomId: string) =>
  [
    ['GET', `/api/rooms/${roomId}`],
    ['GET', `/api/rooms/${roomId}/messages`],
    ['GET', `/api/rooms/${roomId}/messages?after=0`],
    ['GET', `/api/rooms/${roomId}/messages?before=3`],
    ['POST', `/api/rooms/${roomId}/messages`, { clientId: randomUUID(), body: 'let me in' }],
    ['POST', `/api/rooms/${roomId}/read`, { seq: 2 }],
    ['POST', `/api/rooms/${roomId}/archive`, {}],
    ['POST', `/api/rooms/${roomId}/unarchive`, {}],
  ] as const;

const call = (
  client: TestClient,
  [method, url, body]: readonly [string, string, unknown?],
): Promise<LightMyRequestResponse> => (method === 'GET' ? client.get(url) : client.post(url, body));

const withoutRequestId = (res: LightMyRequestResponse) => {
  const { requestId: _, ...rest } = res.json<Record<string, unknown>>();
  return rest;
};

describe('only the two participants can see or touch a room', () => {
  const outsiders: [string, () => Promise<Person>][] = [
    ['a stranger patient', () => buildPatient(t)],
    [
      'another patient of the same practitioner (with a room of their own)',
      async () => (await buildAcceptedAppointment(t, undefined, room.practitioner)).patient,
    ],
    [
      'another practitioner of the same patient (with a room of their own)',
      async () => (await buildAcceptedAppointment(t, room.patient)).practitioner,
    ],
    ['a stranger practitioner', () => buildPractitioner(t)],
    ['an admin', () => buildAdmin(t)],
  ];

  it.each(outsiders)(
    '%s gets 404 not_found on every route, the same answer as for a room that does not exist',
    async (_label, make) => {
      const outsider = await make();
      const storedBefore = await storedMessages(t, room.roomId);
      const membersBefore = await t.services.store.system().rooms.members(room.roomId);
      const missing = randomUUID();
      const routes = contentRoutes(room.roomId);
      const ghostRoutes = contentRoutes(missing);
      for (let i = 0; i < routes.length; i++) {
        const res = await call(outsider.client, routes[i]!);
        const ghost = await call(outsider.client, ghostRoutes[i]!);
        const label = `${routes[i]![0]} ${routes[i]![1]}`;
        expect(res.statusCode, label).toBe(404);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.json(), label).toMatchObject({ code: 'not_found' });
        expect(res.body).not.toContain(secret);
        expect(res.body).not.toContain(room.patient.user.name);
        // Nothing tells an existing room from a made-up id.
        expect(withoutRequestId(res), label).toEqual(withoutRequestId(ghost));
      }
      expect(await storedMessages(t, room.roomId)).toEqual(storedBefore);
      expect(await t.services.store.system().rooms.members(room.roomId)).toEqual(membersBefore);
      const listed = await roomsOf(outsider.client);
      expect(listed.map((r) => r.id)).not.toContain(room.roomId);
      // Their attempts to read were not recorded as reads of this room's messages.
      const reads = await auditRows(t, {
        action: 'room.read_messages',
        targetId: room.roomId,
        actorId: outsider.user.id,
      });
      expect(reads).toEqual([]);
    },
  );

  it('nobody signed in gets 401 on every route and no body', async () => {
    for (const [method, url, body] of contentRoutes(room.roomId)) {
      const res = await t.app.inject({
        method,
        url,
        headers: { origin: t.config.publicOrigin },
        ...(body ? { payload: body as Record<string, unknown> } : {}),
      });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      expect(res.body).not.toContain(secret);
    }
  });

  it('both participants read and write the room', async () => {
    for (const client of [room.patientClient, room.practitionerClient]) {
      const { messages } = await page(client, room.roomId);
      expect(messages.map((m) => m.body)).toContain(secret);
      expect((await roomOf(client, room.roomId)).id).toBe(room.roomId);
    }
  });
});

describe('the room list', () => {
  it('is newest activity first, with the last message preview and the other participant', async () => {
    const patient = await buildPatient(t);
    const first = await buildAcceptedAppointment(t, patient);
    const second = await buildAcceptedAppointment(t, patient);
    const clock = t.clock as { advance(ms: number): void };
    clock.advance(1_000);
    await send(first.practitionerClient, first.roomId, 'Your   results\nare  fine');
    let rooms = await roomsOf(patient.client);
    expect(rooms.map((r) => r.id)).toEqual([first.roomId, second.roomId]);
    expect(rooms[0]).toMatchObject({
      lastSeq: 1,
      lastMessage: {
        seq: 1,
        senderId: first.practitioner.user.id,
        preview: 'Your results are fine',
      },
      unreadCount: 1,
      practitioner: { id: first.practitioner.user.id },
    });
    clock.advance(1_000);
    await send(second.patientClient, second.roomId, 'x'.repeat(300));
    rooms = await roomsOf(patient.client);
    expect(rooms.map((r) => r.id)).toEqual([second.roomId, first.roomId]);
    const preview = rooms[0]!.lastMessage!.preview;
    expect([...preview].length).toBeLessThanOrEqual(140);
    expect(preview.endsWith('…')).toBe(true);
    // My own message is not unread for me.
    expect(rooms[0]!.unreadCount).toBe(0);
  });

  it('a practitioner sees the patient (with date of birth) and never another practitioner’s rooms', async () => {
    const a = await buildAcceptedAppointment(t);
    const b = await buildAcceptedAppointment(t);
    const rooms = await roomsOf(a.practitionerClient);
    expect(rooms.map((r) => r.id)).toEqual([a.roomId]);
    expect(rooms[0]!.patient).toMatchObject({ id: a.patient.user.id, dateOfBirth: '1980-01-01' });
    expect(rooms.map((r) => r.id)).not.toContain(b.roomId);
  });
});
