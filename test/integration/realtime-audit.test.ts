import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestStore, startTestApp, type TestApp } from '../support/app.js';
import { auditRows, detailOf } from '../support/factories.js';
import {
  SseClient,
  WsClient,
  buildConversation,
  openRoom,
  postMessage,
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

async function connect(cookie: string, app: TestApp = t): Promise<WsClient> {
  const ws = await WsClient.connect(app.url, { cookie });
  sockets.push(ws);
  await ws.nextOf('hello');
  return ws;
}

const reads = async (app: TestApp, actorId: string, roomId: string) =>
  (await auditRows(app, { action: 'room.read_messages', targetId: roomId })).filter(
    (r) => r.actor_id === actorId,
  );

describe('a replay of history is audited', () => {
  it('writes one read row per room for a WebSocket resume, with the seq range sent, before sending it', async () => {
    const c = await buildConversation(t);
    const second = await t.createUser('practitioner');
    const secondClient = await t.login(second);
    const otherRoom = await openRoom(t, c.patientClient, secondClient);
    for (let i = 1; i <= 5; i++) await postMessage(c.practitionerClient, c.roomId, `first ${i}`);
    for (let i = 1; i <= 3; i++) await postMessage(secondClient, otherRoom, `second ${i}`);

    const ws = await connect(c.patientClient.cookie);
    ws.send({ type: 'resume', rooms: { [c.roomId]: 2, [otherRoom]: 0 } });
    // The row is stored before the first replayed message leaves the server.
    await ws.nextOf('message', (e) => e.message.roomId === c.roomId);
    const first = await reads(t, c.patient.id, c.roomId);
    expect(first.map(detailOf)).toEqual([{ via: 'ws', fromSeq: 3, toSeq: 5, count: 3 }]);
    expect(first[0]).toMatchObject({ actor_role: 'patient', target_type: 'room', ip: '127.0.0.1' });
    const resumed = await ws.nextOf('resumed');
    expect(resumed.rooms).toEqual({ [c.roomId]: 5, [otherRoom]: 3 });
    expect((await reads(t, c.patient.id, otherRoom)).map(detailOf)).toEqual([
      { via: 'ws', fromSeq: 1, toSeq: 3, count: 3 },
    ]);

    // Live delivery after the replay is covered by each message's send row: no read rows.
    const live = await postMessage(c.practitionerClient, c.roomId, 'live');
    await ws.nextOf('message', (e) => e.message.id === live.id);
    expect(await reads(t, c.patient.id, c.roomId)).toHaveLength(1);

    // A resume that misses nothing reads nothing and writes nothing.
    const again = await connect(c.patientClient.cookie);
    const quiet = await again.resume({ [c.roomId]: live.seq, [otherRoom]: 3 });
    expect(quiet.replayed).toEqual([]);
    expect(await reads(t, c.patient.id, c.roomId)).toHaveLength(1);
    expect(await reads(t, c.patient.id, otherRoom)).toHaveLength(1);
  });

  it("writes one for the event stream's Last-Event-ID replay, naming the range", async () => {
    const c = await buildConversation(t);
    const first = await SseClient.connect(t.url, { cookie: c.patientClient.cookie });
    await first.nextOf('resumed');
    const seen = await postMessage(c.practitionerClient, c.roomId, 'before the drop');
    const last = await first.next(
      (e) => e.data.type === 'message' && e.data.message.id === seen.id,
    );
    await first.close();
    // Connecting without Last-Event-ID replays nothing, and live messages are no replay.
    expect(await reads(t, c.patient.id, c.roomId)).toEqual([]);

    for (let i = 0; i < 4; i++) await postMessage(c.practitionerClient, c.roomId, `missed ${i}`);
    const again = await SseClient.connect(t.url, {
      cookie: c.patientClient.cookie,
      lastEventId: last.id!,
    });
    await again.nextOf('resumed');
    const replayed = again.events.filter((e) => e.data.type === 'message');
    expect(replayed).toHaveLength(4);
    expect((await reads(t, c.patient.id, c.roomId)).map(detailOf)).toEqual([
      { via: 'sse', fromSeq: 2, toSeq: 5, count: 4 },
    ]);
    await again.close();
  });
});

describe('realtime.connect', () => {
  const connects = (app: TestApp, actorId: string) =>
    auditRows(app, { action: 'realtime.connect', actorId });

  it("is written for a session's first connection only, however often it reconnects", async () => {
    const c = await buildConversation(t);
    const ws = await connect(c.patientClient.cookie);
    await ws.resume({});
    const rows = await connects(t, c.patient.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ target_type: 'session', ip: '127.0.0.1' });
    expect(detailOf(rows[0]!)).toEqual({ transport: 'ws', rooms: 1 });

    await ws.close();
    // Reconnects, a second tab at the same time, and the event stream: the same session.
    const [a, b] = await Promise.all([
      connect(c.patientClient.cookie),
      connect(c.patientClient.cookie),
    ]);
    await Promise.all([a.resume({}), b.resume({})]);
    const sse = await SseClient.connect(t.url, { cookie: c.patientClient.cookie });
    await sse.nextOf('resumed');
    await sse.close();
    expect(await connects(t, c.patient.id)).toHaveLength(1);

    // A new sign-in is a new session: one more row, for it.
    const again = await t.login(c.patient);
    await (await connect(again.cookie)).resume({});
    const after = await connects(t, c.patient.id);
    expect(after).toHaveLength(2);
    expect(after[1]!.target_id).not.toBe(after[0]!.target_id);
  });

  it('is not written again for the same session after a server restart', async () => {
    const store = await createTestStore();
    let app = await startTestApp({ listen: true, store });
    try {
      const c = await buildConversation(app);
      await (await connect(c.patientClient.cookie, app)).resume({});
      expect(await connects(app, c.patient.id)).toHaveLength(1);
      await Promise.all(sockets.splice(0).map((s) => s.close()));
      await app.stop();

      app = await startTestApp({ listen: true, store });
      await (await connect(c.patientClient.cookie, app)).resume({});
      expect(await connects(app, c.patient.id)).toHaveLength(1);
    } finally {
      await Promise.all(sockets.splice(0).map((s) => s.close()));
      await app.stop();
      await store.drop();
    }
  });
});

describe('refusals over the WebSocket are audited', () => {
  it("a send, a read and typing into another user's room each write access.denied, without the body", async () => {
    const c = await buildConversation(t);
    const stranger = await buildConversation(t);
    const ws = await connect(stranger.patientClient.cookie);
    ws.send({ type: 'resume', rooms: {} });
    await ws.nextOf('resumed');

    const clientId = randomUUID();
    ws.send({ type: 'send', roomId: c.roomId, clientId, body: 'WS-DENIED-CANARY' });
    expect(await ws.nextOf('error', (e) => e.clientId === clientId)).toMatchObject({
      code: 'not_found',
    });
    ws.send({ type: 'read', roomId: c.roomId, seq: 1 });
    expect(await ws.nextOf('error')).toMatchObject({ code: 'not_found' });
    ws.send({ type: 'typing', roomId: c.roomId, typing: true });
    expect(await ws.nextOf('error')).toMatchObject({ code: 'not_found' });

    // Recorded after the answer: wait until all three are in.
    const denied = async () =>
      (await auditRows(t, { action: 'access.denied', targetId: c.roomId })).filter(
        (r) => r.actor_id === stranger.patient.id,
      );
    await expect.poll(async () => (await denied()).length).toBe(3);
    const rows = await denied();
    expect(rows.map((r) => detailOf(r).route).sort()).toEqual(['ws:read', 'ws:send', 'ws:typing']);
    for (const r of rows) {
      expect(detailOf(r)).toMatchObject({ code: 'not_found', method: 'WS' });
      expect(r).toMatchObject({ actor_role: 'patient', target_type: 'request' });
      expect(JSON.stringify(r)).not.toContain('WS-DENIED-CANARY');
    }
  });
});
