import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TYPING_EXPIRES_MS } from '../../src/shared/events.js';
import { startTestApp, type TestApp } from '../support/app.js';
import {
  WsClient,
  buildConversation,
  eventually,
  openRoom,
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

describe('messages over the WebSocket', () => {
  let c: Conversation;
  beforeAll(async () => {
    c = await buildConversation(t);
  });

  it('reaches the practitioner’s socket, acks the sender with the seq, and reaches the sender’s other tab', async () => {
    const practitioner = await live(c.practitionerClient.cookie);
    const patient = await live(c.patientClient.cookie);
    const patientOtherTab = await live(c.patientClient.cookie);
    const clientId = randomUUID();

    patient.send({ type: 'send', roomId: c.roomId, clientId, body: 'My results came back' });

    const ack = await patient.nextOf('ack', (e) => e.clientId === clientId);
    expect(ack.message).toMatchObject({
      roomId: c.roomId,
      seq: 1,
      senderId: c.patient.id,
      clientId,
      body: 'My results came back',
    });
    const received = await practitioner.nextOf('message', (e) => e.message.clientId === clientId);
    expect(received.message).toEqual(ack.message);
    const echoed = await patientOtherTab.nextOf('message', (e) => e.message.clientId === clientId);
    expect(echoed.message.id).toBe(ack.message.id);
    // The sending tab gets its ack instead of a second copy as a message.
    expect(patient.framesOf('message').filter((e) => e.message.id === ack.message.id)).toEqual([]);
  });

  it('sends delivered and read receipts to the sender', async () => {
    const patient = await live(c.patientClient.cookie);
    const practitioner = await live(c.practitionerClient.cookie);
    const clientId = randomUUID();
    patient.send({ type: 'send', roomId: c.roomId, clientId, body: 'Is that normal?' });
    const { message } = await patient.nextOf('ack', (e) => e.clientId === clientId);
    await practitioner.nextOf('message', (e) => e.message.id === message.id);

    const delivered = await patient.nextOf(
      'receipt',
      (e) => e.kind === 'delivered' && e.seq === message.seq,
    );
    expect(delivered).toMatchObject({ roomId: c.roomId, userId: c.practitioner.id });

    practitioner.send({ type: 'read', roomId: c.roomId, seq: message.seq });
    const read = await patient.nextOf('receipt', (e) => e.kind === 'read');
    expect(read).toEqual({
      type: 'receipt',
      roomId: c.roomId,
      userId: c.practitioner.id,
      kind: 'read',
      seq: message.seq,
    });
    // The reader's own tabs hear it too, so a second tab clears its unread badge.
    await practitioner.nextOf('receipt', (e) => e.kind === 'read' && e.seq === message.seq);
  });

  it('is idempotent: the same clientId twice makes one message and two acks with the same id', async () => {
    const patient = await live(c.patientClient.cookie);
    const practitioner = await live(c.practitionerClient.cookie);
    const clientId = randomUUID();
    const cmd = { type: 'send', roomId: c.roomId, clientId, body: 'Sent twice' } as const;
    patient.send(cmd);
    const first = await patient.nextOf('ack', (e) => e.clientId === clientId);
    patient.send(cmd);
    const second = await patient.nextOf('ack', (e) => e.clientId === clientId);
    expect(second.message).toEqual(first.message);

    // A later message proves the practitioner has seen everything before it.
    const marker = await postMessage(c.patientClient, c.roomId, 'marker');
    await practitioner.nextOf('message', (e) => e.message.id === marker.id);
    const copies = practitioner.framesOf('message').filter((e) => e.message.clientId === clientId);
    expect(copies).toHaveLength(1);
    const page = await c.patientClient.get(`/api/rooms/${c.roomId}/messages?limit=200`);
    const stored = page.json<{ messages: { clientId: string }[] }>().messages;
    expect(stored.filter((m) => m.clientId === clientId)).toHaveLength(1);
  });

  it('answers an invalid frame with validation_failed and keeps the socket open', async () => {
    const patient = await live(c.patientClient.cookie);
    patient.sendRaw('not json');
    expect(await patient.nextOf('error')).toMatchObject({ code: 'validation_failed' });
    patient.sendRaw(JSON.stringify({ type: 'send', roomId: c.roomId }));
    expect(await patient.nextOf('error')).toMatchObject({ code: 'validation_failed' });
    patient.sendRaw(JSON.stringify({ type: 'launch-missiles' }));
    expect(await patient.nextOf('error')).toMatchObject({ code: 'validation_failed' });
    // A send the domain refuses names its clientId.
    const clientId = randomUUID();
    patient.send({ type: 'send', roomId: c.roomId, clientId, body: '   ' });
    expect(await patient.nextOf('error', (e) => e.clientId === clientId)).toMatchObject({
      code: 'validation_failed',
    });

    const ok = randomUUID();
    patient.send({ type: 'send', roomId: c.roomId, clientId: ok, body: 'still here' });
    await patient.nextOf('ack', (e) => e.clientId === ok);
    expect(patient.socket.readyState).toBe(patient.socket.OPEN);
  });
});

describe('typing', () => {
  it('appears on the other participant’s socket and can be stopped', async () => {
    const c = await buildConversation(t);
    const patient = await live(c.patientClient.cookie);
    const practitioner = await live(c.practitionerClient.cookie);
    patient.send({ type: 'typing', roomId: c.roomId, typing: true });
    expect(await practitioner.nextOf('typing')).toEqual({
      type: 'typing',
      roomId: c.roomId,
      userId: c.patient.id,
      typing: true,
    });
    patient.send({ type: 'typing', roomId: c.roomId, typing: false });
    expect(await practitioner.nextOf('typing')).toMatchObject({ typing: false });
    // The typist does not hear its own indicator.
    expect(patient.framesOf('typing')).toEqual([]);
  });

  it('expires by itself when the typist goes quiet', async () => {
    const c = await buildConversation(t);
    const patient = await live(c.patientClient.cookie);
    const practitioner = await live(c.practitionerClient.cookie);
    patient.send({ type: 'typing', roomId: c.roomId, typing: true });
    await practitioner.nextOf('typing', (e) => e.typing);
    const started = Date.now();
    const stopped = await practitioner.nextOf('typing', (e) => !e.typing, TYPING_EXPIRES_MS + 2000);
    expect(stopped).toMatchObject({ roomId: c.roomId, userId: c.patient.id, typing: false });
    // Timers never fire early: it did not stop before the advertised expiry (minus clock granularity).
    expect(Date.now() - started).toBeGreaterThanOrEqual(TYPING_EXPIRES_MS - 100);
  }, 15_000);

  it('works from the HTTP fallback route too', async () => {
    const c = await buildConversation(t);
    const practitioner = await live(c.practitionerClient.cookie);
    const res = await c.patientClient.post(`/api/rooms/${c.roomId}/typing`, { typing: true });
    expect(res.statusCode).toBe(204);
    expect(await practitioner.nextOf('typing')).toMatchObject({
      userId: c.patient.id,
      typing: true,
    });
    await c.patientClient.post(`/api/rooms/${c.roomId}/typing`, { typing: false });
    expect(await practitioner.nextOf('typing')).toMatchObject({ typing: false });
  });
});

describe('presence', () => {
  it('follows connect and disconnect across two tabs of the same user', async () => {
    const c = await buildConversation(t);
    const practitioner = await live(c.practitionerClient.cookie);
    const about = (e: { userId: string }) => e.userId === c.patient.id;

    const tab1 = await live(c.patientClient.cookie);
    expect(await practitioner.nextOf('presence', about)).toMatchObject({ status: 'online' });
    const tab2 = await live(c.patientClient.cookie);
    // The patient's tabs see the practitioner online too.
    expect(await tab2.nextOf('presence', (e) => e.userId === c.practitioner.id)).toMatchObject({
      status: 'online',
    });

    const before = t.gateway.connectionCount;
    await tab2.close();
    await eventually(() => t.gateway.connectionCount === before - 1, 'the second tab to close');
    // Still online through tab 1: the next presence news is tab 1 going away, not "offline".
    tab1.send({ type: 'presence', status: 'away' });
    expect(await practitioner.nextOf('presence', about)).toMatchObject({ status: 'away' });
    tab1.send({ type: 'presence', status: 'online' });
    expect(await practitioner.nextOf('presence', about)).toMatchObject({ status: 'online' });

    await tab1.close();
    expect(await practitioner.nextOf('presence', about)).toMatchObject({ status: 'offline' });
    expect(
      practitioner
        .framesOf('presence')
        .filter(about)
        .map((e) => e.status),
    ).toEqual(['online', 'away', 'online', 'offline']);
  });
});

describe('rooms opened while connected', () => {
  it('announces the new room to both participants and carries its messages', async () => {
    const patientUser = await t.createUser('patient');
    const practitionerUser = await t.createUser('practitioner');
    const patientClient = await t.login(patientUser);
    const practitionerClient = await t.login(practitionerUser);
    const patient = await live(patientClient.cookie);
    const practitioner = await live(practitionerClient.cookie);

    const roomId = await openRoom(t, patientClient, practitionerClient);
    const forPatient = await patient.nextOf('room', (e) => e.room.id === roomId);
    expect(forPatient.room.practitioner.id).toBe(practitionerUser.id);
    await practitioner.nextOf('room', (e) => e.room.id === roomId);
    await patient.nextOf('appointment', (e) => e.appointment.roomId === roomId);

    const clientId = randomUUID();
    patient.send({ type: 'send', roomId, clientId, body: 'Thanks for accepting' });
    const ack = await patient.nextOf('ack', (e) => e.clientId === clientId);
    expect(ack.message.seq).toBe(1);
    await practitioner.nextOf('message', (e) => e.message.id === ack.message.id);
    // Presence follows the new contact.
    await practitioner.nextOf('presence', (e) => e.userId === patientUser.id);
  });
});
