import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Ctx } from '../../src/domain/context.js';
import { RESUME_LIMIT } from '../../src/shared/events.js';
import type { MessageWire } from '../../src/shared/wire.js';
import { startTestApp, type TestApp, type TestClient } from '../support/app.js';
import { auditRows, detailOf } from '../support/factories.js';
import {
  SseClient,
  WsClient,
  buildConversation,
  postMessage,
  type Conversation,
} from '../support/ws-client.js';

const MISSED = 500;

let t: TestApp;
const sockets: WsClient[] = [];

beforeAll(async () => {
  // One person sends the missed messages in quick bursts, well past the default send
  // budget; the budget itself is tested in send-limit.test.ts.
  t = await startTestApp({ listen: true, env: { SEND_LIMIT_BURST: '100000' } });
});
afterEach(async () => {
  await Promise.all(sockets.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await t.stop();
});

async function connect(cookie: string): Promise<WsClient> {
  const ws = await WsClient.connect(t.url, { cookie });
  sockets.push(ws);
  await ws.nextOf('hello');
  return ws;
}

/** Sends over HTTP, several in flight at a time as a busy client would; resolves with the stored messages by seq. */
async function sendMany(client: TestClient, roomId: string, count: number): Promise<MessageWire[]> {
  const sent: MessageWire[] = [];
  for (let i = 0; i < count; i += 25) {
    const batch = Array.from({ length: Math.min(25, count - i) }, (_, j) =>
      postMessage(client, roomId, `missed ${i + j}`),
    );
    sent.push(...(await Promise.all(batch)));
  }
  return sent.sort((a, b) => a.seq - b.seq);
}

function expectExactly(received: MessageWire[], sent: MessageWire[]): void {
  expect(received.map((m) => m.seq)).toEqual(sent.map((m) => m.seq));
  expect(received.map((m) => m.id)).toEqual(sent.map((m) => m.id));
  expect(new Set(received.map((m) => m.id)).size).toBe(received.length);
}

describe('resume over the WebSocket', () => {
  it(`replays exactly the ${MISSED} messages sent while the client was away, in order, then goes live`, async () => {
    const c = await buildConversation(t);
    const before = await sendMany(c.practitionerClient, c.roomId, 3);

    const first = await connect(c.patientClient.cookie);
    const initial = await first.resume({ [c.roomId]: 0 });
    expectExactly(initial.replayed, before);
    expect(initial.resumed.rooms[c.roomId]).toBe(3);
    await first.close();

    const missed = await sendMany(c.practitionerClient, c.roomId, MISSED);
    expect(missed[0]!.seq).toBe(4);

    const again = await connect(c.patientClient.cookie);
    const { replayed, resumed } = await again.resume({ [c.roomId]: 3 });
    expect(replayed).toHaveLength(MISSED);
    expectExactly(replayed, missed);
    expect(resumed.rooms[c.roomId]).toBe(3 + MISSED);
    expect(resumed.truncated).toBeUndefined();

    // Live after the replay: the next message arrives once, after `resumed`.
    const live = await postMessage(c.practitionerClient, c.roomId, 'are you there?');
    await again.nextOf('message', (e) => e.message.id === live.id);
    const all = again.framesOf('message').map((e) => e.message);
    expectExactly(all, [...missed, live]);
    const at = (id: string) =>
      again.frames.findIndex((e) => e.type === 'message' && e.message.id === id);
    const resumedAt = again.frames.indexOf(resumed);
    expect(resumedAt).toBeGreaterThan(at(missed[MISSED - 1]!.id));
    expect(resumedAt).toBeLessThan(at(live.id));
  }, 60_000);

  it('replays what was missed before acking a send that follows the resume at once', async () => {
    const c = await buildConversation(t);
    const missed = await sendMany(c.practitionerClient, c.roomId, 30);
    const ws = await connect(c.patientClient.cookie);
    const clientId = randomUUID();
    // A reconnecting app flushes its outbox right behind the resume frame.
    ws.send({ type: 'resume', rooms: { [c.roomId]: 0 } });
    ws.send({ type: 'send', roomId: c.roomId, clientId, body: 'queued while offline' });
    const ack = await ws.nextOf('ack', (e) => e.clientId === clientId);
    expect(ack.message.seq).toBe(31);
    const marker = await postMessage(c.practitionerClient, c.roomId, 'marker');
    await ws.nextOf('message', (e) => e.message.id === marker.id);

    expectExactly(
      ws.framesOf('message').map((e) => e.message),
      [...missed, marker],
    );
    // One `resumed`, and only after the replay it announces.
    const types = ws.frames.map((e) => e.type);
    expect(types.filter((x) => x === 'resumed')).toHaveLength(1);
    const lastReplayed = ws.frames.findIndex(
      (e) => e.type === 'message' && e.message.id === missed[missed.length - 1]!.id,
    );
    expect(types.indexOf('resumed')).toBeGreaterThan(lastReplayed);
  });

  it(`says "truncated" when more than ${RESUME_LIMIT} messages were missed, and replays none of them`, async () => {
    const c = await buildConversation(t);
    const total = RESUME_LIMIT + 50;
    const ctx: Ctx = {
      actor: { id: c.practitioner.id, role: 'practitioner', name: c.practitioner.name },
      ip: null,
    };
    // Group commit writes these in a transaction or two.
    await Promise.all(
      Array.from({ length: total }, (_, i) =>
        t.services.messages.send(ctx, c.roomId, { clientId: randomUUID(), body: `bulk ${i}` }),
      ),
    );
    const ws = await connect(c.patientClient.cookie);
    const { replayed, resumed } = await ws.resume({ [c.roomId]: 0 });
    expect(resumed.truncated).toEqual([c.roomId]);
    expect(resumed.rooms[c.roomId]).toBe(total);
    expect(replayed).toEqual([]);
    // Nothing was sent, so nothing was read: no audit row for the truncated room.
    const reads = () => auditRows(t, { action: 'room.read_messages', targetId: c.roomId });
    expect(await reads()).toEqual([]);

    // Within the limit, the same room replays normally.
    const ws2 = await connect(c.patientClient.cookie);
    const within = await ws2.resume({ [c.roomId]: total - 10 });
    expect(within.resumed.truncated).toBeUndefined();
    expect(within.replayed.map((m) => m.seq)).toEqual(
      Array.from({ length: 10 }, (_, i) => total - 9 + i),
    );
    expect((await reads()).map(detailOf)).toEqual([
      { via: 'ws', fromSeq: total - 9, toSeq: total, count: 10 },
    ]);
  }, 60_000);
});

describe('resume over the server-sent-events fallback', () => {
  let c: Conversation;
  beforeAll(async () => {
    c = await buildConversation(t);
  });

  it('refuses a stream without a session', async () => {
    const res = await fetch(`${t.url}/api/events`);
    expect(res.status).toBe(401);
    await res.body?.cancel();
  });

  it(`resumes from Last-Event-ID with exactly the ${MISSED} missed messages, in order`, async () => {
    const first = await SseClient.connect(t.url, { cookie: c.patientClient.cookie });
    expect(first.status).toBe(200);
    await first.nextOf('hello');
    await first.nextOf('resumed');
    const seen = await postMessage(c.practitionerClient, c.roomId, 'before the drop');
    const last = await first.next((e) => e.data.type === 'message');
    expect(last.data).toMatchObject({ type: 'message', message: { id: seen.id } });
    expect(last.id).toBeTruthy();
    await first.close();

    const missed = await sendMany(c.practitionerClient, c.roomId, MISSED);

    const again = await SseClient.connect(t.url, {
      cookie: c.patientClient.cookie,
      lastEventId: last.id!,
    });
    const resumed = await again.nextOf('resumed', 30_000);
    const resumedAt = again.events.indexOf(resumed);
    const replayed = again.events
      .slice(0, resumedAt)
      .flatMap((e) => (e.data.type === 'message' ? [e.data.message] : []));
    expectExactly(replayed, missed);
    // Every message event carries an id to resume from; the last one covers the whole replay.
    const withIds = again.events.slice(0, resumedAt).filter((e) => e.data.type === 'message');
    expect(withIds.every((e) => typeof e.id === 'string' && e.id.length > 0)).toBe(true);

    // Live after the replay, once.
    const live = await postMessage(c.practitionerClient, c.roomId, 'still there?');
    const liveEvent = await again.next(
      (e) => e.data.type === 'message' && e.data.message.id === live.id,
    );
    const all = again.events.flatMap((e) => (e.data.type === 'message' ? [e.data.message] : []));
    expectExactly(all, [...missed, live]);

    // Resuming from the newest id replays nothing.
    await again.close();
    const third = await SseClient.connect(t.url, {
      cookie: c.patientClient.cookie,
      lastEventId: liveEvent.id!,
    });
    await third.nextOf('resumed');
    const marker = await postMessage(c.practitionerClient, c.roomId, 'marker');
    await third.next((e) => e.data.type === 'message' && e.data.message.id === marker.id);
    expect(
      third.events.flatMap((e) => (e.data.type === 'message' ? [e.data.message.id] : [])),
    ).toEqual([marker.id]);
    await third.close();
  }, 60_000);

  it('carries typing and receipts like the WebSocket', async () => {
    const sse = await SseClient.connect(t.url, { cookie: c.patientClient.cookie });
    await sse.nextOf('resumed');
    await c.practitionerClient.post(`/api/rooms/${c.roomId}/typing`, { typing: true });
    const typing = await sse.nextOf('typing');
    expect(typing.data).toMatchObject({ roomId: c.roomId, userId: c.practitioner.id });
    await c.practitionerClient.post(`/api/rooms/${c.roomId}/typing`, { typing: false });

    const mine = await postMessage(c.patientClient, c.roomId, 'read me');
    const read = await c.practitionerClient.post(`/api/rooms/${c.roomId}/read`, { seq: mine.seq });
    expect(read.statusCode).toBe(200);
    const receipt = await sse.next((e) => e.data.type === 'receipt' && e.data.kind === 'read');
    expect(receipt.data).toMatchObject({ userId: c.practitioner.id, seq: mine.seq });
    await sse.close();
  });
});
