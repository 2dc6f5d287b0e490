import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ServerEvent } from '../../src/shared/events.js';
import { startTestApp, type TestApp } from '../support/app.js';
import {
  WsClient,
  buildConversation,
  postMessage,
  type Conversation,
} from '../support/ws-client.js';

let t: TestApp;
const sockets: WsClient[] = [];

beforeAll(async () => {
  t = await startTestApp({ listen: true });
});
afterEach(async () => {
  await Promise.all(sockets.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await t.stop();
});

async function live(cookie: string, rooms: Record<string, number> = {}): Promise<WsClient> {
  const ws = await WsClient.live(t.url, cookie, rooms);
  sockets.push(ws);
  return ws;
}

/** Room A's traffic of every kind: messages both ways, typing, a read receipt, delivered marks. */
async function trafficInRoomA(
  a: Conversation,
  patient: WsClient,
  practitioner: WsClient,
): Promise<string[]> {
  const bodies = [`secret diagnosis ${randomUUID()}`, `secret reply ${randomUUID()}`];
  const clientId = randomUUID();
  patient.send({ type: 'typing', roomId: a.roomId, typing: true });
  patient.send({ type: 'send', roomId: a.roomId, clientId, body: bodies[0]! });
  const { message } = await patient.nextOf('ack', (e) => e.clientId === clientId);
  await practitioner.nextOf('message', (e) => e.message.id === message.id);
  patient.send({ type: 'typing', roomId: a.roomId, typing: false });
  const reply = await postMessage(a.practitionerClient, a.roomId, bodies[1]!);
  await patient.nextOf('message', (e) => e.message.id === reply.id);
  practitioner.send({ type: 'read', roomId: a.roomId, seq: message.seq });
  await patient.nextOf('receipt', (e) => e.kind === 'read' && e.seq === message.seq);
  patient.send({ type: 'read', roomId: a.roomId, seq: reply.seq });
  await practitioner.nextOf('receipt', (e) => e.kind === 'read' && e.seq === reply.seq);
  return bodies;
}

describe('authorization on every delivery', () => {
  it('a stranger’s socket never receives another room’s events, even with a shared practitioner', async () => {
    const a = await buildConversation(t);
    // The stranger is another patient of the same practitioner, with a room of their own.
    const stranger = await buildConversation(t, {
      user: a.practitioner,
      client: a.practitionerClient,
    });
    const strangerWs = await live(stranger.patientClient.cookie);
    const patient = await live(a.patientClient.cookie);
    const practitioner = await live(a.practitionerClient.cookie);

    const bodies = await trafficInRoomA(a, patient, practitioner);

    // A message in the stranger's own room is the marker that everything before it has been seen.
    const own = await postMessage(stranger.practitionerClient, stranger.roomId, 'your own message');
    await strangerWs.nextOf('message', (e) => e.message.id === own.id);

    const leaked = (e: ServerEvent) => {
      const json = JSON.stringify(e);
      return json.includes(a.roomId) || bodies.some((b) => json.includes(b));
    };
    expect(strangerWs.frames.filter(leaked)).toEqual([]);
    const allowed = new Set(['hello', 'resumed', 'unread', 'presence', 'message', 'receipt']);
    expect(strangerWs.frames.filter((e) => !allowed.has(e.type))).toEqual([]);
    // Presence only about their own practitioner, never about the other patient.
    expect(strangerWs.framesOf('presence').filter((e) => e.userId !== a.practitioner.id)).toEqual(
      [],
    );
    expect(strangerWs.framesOf('message').map((e) => e.message.roomId)).toEqual([stranger.roomId]);
  });

  it('a stranger cannot act in another room over the socket', async () => {
    const a = await buildConversation(t);
    const stranger = await buildConversation(t);
    const ws = await live(stranger.patientClient.cookie);
    const practitioner = await live(a.practitionerClient.cookie);

    const clientId = randomUUID();
    ws.send({ type: 'send', roomId: a.roomId, clientId, body: 'let me in' });
    expect(await ws.nextOf('error', (e) => e.clientId === clientId)).toMatchObject({
      code: 'not_found',
    });
    ws.send({ type: 'typing', roomId: a.roomId, typing: true });
    expect(await ws.nextOf('error')).toMatchObject({ code: 'not_found' });
    ws.send({ type: 'read', roomId: a.roomId, seq: 1 });
    expect(await ws.nextOf('error')).toMatchObject({ code: 'not_found' });

    const marker = await postMessage(a.patientClient, a.roomId, 'marker');
    await practitioner.nextOf('message', (e) => e.message.id === marker.id);
    expect(practitioner.framesOf('message').map((e) => e.message.id)).toEqual([marker.id]);
    expect(practitioner.framesOf('typing')).toEqual([]);
  });

  it('a resume naming a foreign room replays nothing from it', async () => {
    const a = await buildConversation(t);
    const stranger = await buildConversation(t);
    await postMessage(a.patientClient, a.roomId, 'private one');
    await postMessage(a.practitionerClient, a.roomId, 'private two');

    const ws = await WsClient.connect(t.url, { cookie: stranger.patientClient.cookie });
    sockets.push(ws);
    await ws.nextOf('hello');
    const { replayed, resumed } = await ws.resume({ [a.roomId]: 0, [stranger.roomId]: 0 });
    expect(replayed).toEqual([]);
    expect(Object.keys(resumed.rooms)).toEqual([stranger.roomId]);
    expect(ws.frames.filter((e) => JSON.stringify(e).includes(a.roomId))).toEqual([]);

    // And live traffic in that room does not follow either.
    const later = await postMessage(a.patientClient, a.roomId, 'private three');
    const own = await postMessage(stranger.practitionerClient, stranger.roomId, 'own');
    await ws.nextOf('message', (e) => e.message.id === own.id);
    expect(ws.framesOf('message').some((e) => e.message.id === later.id)).toBe(false);
  });

  it('an admin socket never receives message bodies', async () => {
    const a = await buildConversation(t);
    const admin = await t.createUser('admin');
    const adminClient = await t.login(admin);
    const adminWs = await live(adminClient.cookie, { [a.roomId]: 0 });
    const patient = await live(a.patientClient.cookie);
    const practitioner = await live(a.practitionerClient.cookie);

    const bodies = await trafficInRoomA(a, patient, practitioner);
    // The admin's own typing or sending in the room is refused like a stranger's.
    const clientId = randomUUID();
    adminWs.send({ type: 'send', roomId: a.roomId, clientId, body: 'admin here' });
    expect(await adminWs.nextOf('error', (e) => e.clientId === clientId)).toMatchObject({
      code: 'not_found',
    });

    const withBodies = adminWs.frames.filter((e) => {
      const json = JSON.stringify(e);
      return bodies.some((b) => json.includes(b));
    });
    expect(withBodies).toEqual([]);
    expect(adminWs.framesOf('message')).toEqual([]);
    expect(adminWs.framesOf('ack')).toEqual([]);
  });
});
