import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageWire } from '../../src/shared/wire.js';
import type { TestApp } from '../support/app.js';
import {
  buildAcceptedAppointment,
  eventually,
  page,
  roomOf,
  send,
  sendMessage,
  startMessagingApp,
  storedMessages,
  type AcceptedAppointment,
} from '../support/factories.js';

let t: TestApp;
beforeAll(async () => {
  t = await startMessagingApp();
});
afterAll(async () => {
  await t.stop();
});

const expectSeqs = (messages: readonly { seq: number }[], from: number, to: number) =>
  expect(messages.map((m) => m.seq)).toEqual(
    Array.from({ length: to - from + 1 }, (_, i) => from + i),
  );

describe('message bodies', () => {
  let room: AcceptedAppointment;
  beforeAll(async () => {
    room = await buildAcceptedAppointment(t);
  });

  it('are trimmed and NFC-normalised before they are stored', async () => {
    const decomposed = '  Cafe\u0301 au lait?  \n';
    const m = await send(room.patientClient, room.roomId, decomposed);
    expect(m.body).toBe('Café au lait?');
    expect(m.body).toBe(m.body.normalize('NFC'));
    const stored = (await storedMessages(t, room.roomId)).find((r) => r.id === m.id)!;
    expect(stored.body).toBe('Caf\u00e9 au lait?');
    const fetched = (await page(room.practitionerClient, room.roomId)).messages.find(
      (x) => x.id === m.id,
    );
    expect(fetched?.body).toBe('Caf\u00e9 au lait?');
  });

  it('keep newlines and tabs inside the text; CRLF becomes a newline', async () => {
    const m = await send(room.patientClient, room.roomId, 'Dose:\tmorning\r\nand\tevening\nthanks');
    expect(m.body).toBe('Dose:\tmorning\nand\tevening\nthanks');
  });

  it('of exactly 10,000 characters (after trimming) are accepted, also in astral characters', async () => {
    const ascii = await send(room.patientClient, room.roomId, `  ${'a'.repeat(10_000)}  `);
    expect(ascii.body).toHaveLength(10_000);
    const emoji = await send(room.patientClient, room.roomId, '😀'.repeat(10_000));
    expect([...emoji.body]).toHaveLength(10_000);
  });

  const invalid: [string, unknown][] = [
    ['empty', ''],
    ['whitespace only', ' \n\t  \r\n '],
    ['10,001 characters', 'a'.repeat(10_001)],
    ['a bell (\\u0007)', 'ring \u0007 ring'],
    ['a NUL (\\u0000)', 'nul \u0000'],
    ['an escape sequence (\\u001b)', '\u001b[31mred'],
    ['a DEL (\\u007f)', 'del \u007f'],
    ['a C1 control (\\u009b, a terminal escape)', 'csi \u009b31m'],
    ['a C1 control (\\u0085, next line)', 'nel \u0085 here'],
    ['a number', 42],
  ];

  it.each(invalid)('that are %s give 400 validation_failed and store nothing', async (_l, body) => {
    const before = await storedMessages(t, room.roomId);
    const clientId = randomUUID();
    const res = await room.patientClient.post(`/api/rooms/${room.roomId}/messages`, {
      clientId,
      body,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'validation_failed' });
    expect(await storedMessages(t, room.roomId)).toEqual(before);
    expect((await roomOf(room.patientClient, room.roomId)).lastSeq).toBe(before.length);
    // The refused client id stays free: a corrected send with it works.
    const fixed = await sendMessage(room.patientClient, room.roomId, 'corrected', clientId);
    expect(fixed.statusCode).toBe(201);
  });

  it.each([['not-a-uuid'], [''], ['12345678-1234-1234-1234-1234567890'], [7]])(
    'with clientId %j give 400 validation_failed and store nothing',
    async (clientId) => {
      const before = await storedMessages(t, room.roomId);
      const res = await room.patientClient.post(`/api/rooms/${room.roomId}/messages`, {
        clientId,
        body: 'hello',
      });
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: 'validation_failed' });
      expect(await storedMessages(t, room.roomId)).toEqual(before);
    },
  );
});

describe('sequence numbers under concurrency', () => {
  it('100 parallel sends from both participants get seq exactly 1..100, no gap, no duplicate', async () => {
    const room = await buildAcceptedAppointment(t);
    const sends = Array.from({ length: 100 }, (_, i) =>
      sendMessage(
        i % 2 === 0 ? room.patientClient : room.practitionerClient,
        room.roomId,
        `message ${i}`,
      ),
    );
    const results = await Promise.all(sends);
    expect(results.map((r) => r.statusCode)).toEqual(Array(100).fill(201));
    const acked = results.map((r) => r.json<MessageWire>());
    expect(acked.map((m) => m.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    // Each acknowledgement names the stored row: same id, seq and body.
    const stored = await storedMessages(t, room.roomId);
    expectSeqs(stored, 1, 100);
    const byId = new Map(stored.map((r) => [r.id, r]));
    for (const m of acked) {
      expect(byId.get(m.id)).toMatchObject({ seq: m.seq, body: m.body, sender_id: m.senderId });
    }
    expect((await roomOf(room.patientClient, room.roomId)).lastSeq).toBe(100);
    // The next send carries on from there.
    expect((await send(room.patientClient, room.roomId, 'after the burst')).seq).toBe(101);
  });

  it('parallel sends into two rooms of the same pair number each room on its own', async () => {
    const a = await buildAcceptedAppointment(t);
    const b = await buildAcceptedAppointment(t, a.patient, a.practitioner);
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        sendMessage(
          i % 3 === 0 ? a.practitionerClient : a.patientClient,
          i % 2 === 0 ? a.roomId : b.roomId,
          `m${i}`,
        ),
      ),
    );
    expect(results.every((r) => r.statusCode === 201)).toBe(true);
    expectSeqs(await storedMessages(t, a.roomId), 1, 20);
    expectSeqs(await storedMessages(t, b.roomId), 1, 20);
  });
  it('refused sends in the same burst (a stranger, a missing room) do not fail their neighbours', async () => {
    const room = await buildAcceptedAppointment(t);
    const stranger = await buildAcceptedAppointment(t);
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) => {
        if (i % 10 === 3) return sendMessage(stranger.patientClient, room.roomId, 'intruder');
        if (i % 10 === 7) return sendMessage(room.patientClient, randomUUID(), 'nowhere');
        return sendMessage(room.practitionerClient, room.roomId, `ok ${i}`);
      }),
    );
    const codes = results.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 404)).toHaveLength(6);
    expect(codes.filter((c) => c === 201)).toHaveLength(24);
    const stored = await storedMessages(t, room.roomId);
    expectSeqs(stored, 1, 24);
    expect(stored.map((m) => m.body)).not.toContain('intruder');
  });
});

describe('a repeated clientId never makes a second message', () => {
  it('50 concurrent re-sends of one clientId: one 201, forty-nine 200, all the same message', async () => {
    const room = await buildAcceptedAppointment(t);
    const clientId = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        sendMessage(room.patientClient, room.roomId, 'Is the clinic open on Sunday?', clientId),
      ),
    );
    const codes = results.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 201)).toHaveLength(1);
    expect(codes.filter((c) => c === 200)).toHaveLength(49);
    const ids = new Set(results.map((r) => r.json<MessageWire>().id));
    expect(ids.size).toBe(1);
    const stored = await storedMessages(t, room.roomId);
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ id: [...ids][0], seq: 1, client_id: clientId });
    expect((await roomOf(room.practitionerClient, room.roomId)).unreadCount).toBe(1);
  });

  it('a later re-send returns the original, even with another body or the id in capitals', async () => {
    const room = await buildAcceptedAppointment(t);
    const clientId = randomUUID();
    const first = await sendMessage(room.patientClient, room.roomId, 'original', clientId);
    expect(first.statusCode).toBe(201);
    await send(room.practitionerClient, room.roomId, 'reply');
    for (const [body, id] of [
      ['original', clientId],
      ['edited on retry', clientId],
      ['original', clientId.toUpperCase()],
    ] as const) {
      const again = await sendMessage(room.patientClient, room.roomId, body, id);
      expect(again.statusCode).toBe(200);
      expect(again.json()).toEqual(first.json());
    }
    expect(await storedMessages(t, room.roomId)).toHaveLength(2);
  });

  it('the same clientId from the same sender in another room is 409 client_id_conflict', async () => {
    const a = await buildAcceptedAppointment(t);
    const b = await buildAcceptedAppointment(t, a.patient);
    const clientId = randomUUID();
    expect((await sendMessage(a.patientClient, a.roomId, 'in room a', clientId)).statusCode).toBe(
      201,
    );
    const res = await sendMessage(b.patientClient, b.roomId, 'in room b', clientId);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'client_id_conflict' });
    expect(res.body).not.toContain('in room a');
    expect(await storedMessages(t, b.roomId)).toEqual([]);
  });

  it('one clientId raced into two rooms by the same sender: one message, one 409', async () => {
    const a = await buildAcceptedAppointment(t);
    const b = await buildAcceptedAppointment(t, a.patient);
    const clientId = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        sendMessage(a.patientClient, i % 2 === 0 ? a.roomId : b.roomId, `race ${i}`, clientId),
      ),
    );
    const codes = results.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 201)).toHaveLength(1);
    expect(codes.filter((c) => c === 409)).toHaveLength(5);
    expect(codes.filter((c) => c === 200)).toHaveLength(4);
    const stored = [...(await storedMessages(t, a.roomId)), ...(await storedMessages(t, b.roomId))];
    expect(stored).toHaveLength(1);
  });

  it('the same clientId from the other participant is their own message', async () => {
    const room = await buildAcceptedAppointment(t);
    const clientId = randomUUID();
    const mine = await sendMessage(room.patientClient, room.roomId, 'mine', clientId);
    const theirs = await sendMessage(room.practitionerClient, room.roomId, 'theirs', clientId);
    expect([mine.statusCode, theirs.statusCode]).toEqual([201, 201]);
    expect(theirs.json()).toMatchObject({ seq: 2, body: 'theirs' });
  });
});

describe('paging', () => {
  let room: AcceptedAppointment;
  beforeAll(async () => {
    room = await buildAcceptedAppointment(t);
    // 250 messages, alternating senders, in a few large bursts.
    for (let burst = 0; burst < 5; burst++) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          sendMessage(
            i % 2 === 0 ? room.patientClient : room.practitionerClient,
            room.roomId,
            `m ${burst * 50 + i}`,
          ),
        ),
      );
    }
    expect((await roomOf(room.patientClient, room.roomId)).lastSeq).toBe(250);
  });

  it('without a cursor gives the newest page, ascending, default 50', async () => {
    const p = await page(room.patientClient, room.roomId);
    expectSeqs(p.messages, 201, 250);
    expect(p.hasMore).toBe(true);
  });

  it('after a seq goes forward, oldest first, and hasMore says whether more follows', async () => {
    let p = await page(room.patientClient, room.roomId, 'after=0&limit=200');
    expectSeqs(p.messages, 1, 200);
    expect(p.hasMore).toBe(true);
    p = await page(room.patientClient, room.roomId, 'after=200&limit=200');
    expectSeqs(p.messages, 201, 250);
    expect(p.hasMore).toBe(false);
    p = await page(room.patientClient, room.roomId, 'after=240&limit=10');
    expectSeqs(p.messages, 241, 250);
    expect(p.hasMore).toBe(false);
    p = await page(room.patientClient, room.roomId, 'after=250');
    expect(p).toEqual({ messages: [], hasMore: false });
  });

  it('before a seq goes back through history, each page ascending', async () => {
    let p = await page(room.practitionerClient, room.roomId, 'before=201&limit=100');
    expectSeqs(p.messages, 101, 200);
    expect(p.hasMore).toBe(true);
    p = await page(room.practitionerClient, room.roomId, 'before=101&limit=100');
    expectSeqs(p.messages, 1, 100);
    expect(p.hasMore).toBe(false);
    p = await page(room.practitionerClient, room.roomId, 'before=11&limit=10');
    expectSeqs(p.messages, 1, 10);
    expect(p.hasMore).toBe(false);
    p = await page(room.practitionerClient, room.roomId, 'before=1');
    expect(p).toEqual({ messages: [], hasMore: false });
  });

  it('walking back page by page visits every message exactly once', async () => {
    const seen: number[] = [];
    let p = await page(room.patientClient, room.roomId, 'limit=37');
    seen.unshift(...p.messages.map((m) => m.seq));
    while (p.hasMore) {
      p = await page(room.patientClient, room.roomId, `before=${seen[0]}&limit=37`);
      seen.unshift(...p.messages.map((m) => m.seq));
    }
    expect(seen).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
  });

  it.each([
    ['limit=201'],
    ['limit=0'],
    ['limit=-1'],
    ['after=-1'],
    ['before=abc'],
    ['after=1&before=9'],
  ])('%s gives 400 validation_failed', async (query) => {
    const res = await room.patientClient.get(`/api/rooms/${room.roomId}/messages?${query}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'validation_failed' });
  });

  it('messages carry the wire shape', async () => {
    const p = await page(room.patientClient, room.roomId, 'after=0&limit=2');
    const m = p.messages[0]!;
    expect(Object.keys(m).sort()).toEqual([
      'body',
      'clientId',
      'createdAt',
      'id',
      'roomId',
      'senderId',
      'seq',
    ]);
    expect(m).toMatchObject({ roomId: room.roomId, seq: 1 });
    expect(m.clientId).toMatch(/^[0-9a-f-]{36}$/);
    expect(m.body).toMatch(/^m \d+$/);
    expect(m.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    // Sent concurrently, so either participant may hold seq 1.
    expect([room.patient.user.id, room.practitioner.user.id]).toContain(p.messages[0]!.senderId);
  });
});

describe('delivered marks', () => {
  it('the sender sees otherDeliveredSeq advance once the recipient has fetched the messages', async () => {
    const room = await buildAcceptedAppointment(t);
    await send(room.patientClient, room.roomId, 'one');
    await send(room.patientClient, room.roomId, 'two');
    expect((await roomOf(room.patientClient, room.roomId)).otherDeliveredSeq).toBe(0);

    // The sender fetching their own messages is not a delivery to the other side.
    await page(room.patientClient, room.roomId);
    await t.services.messages.deliveries.flush();
    expect((await roomOf(room.patientClient, room.roomId)).otherDeliveredSeq).toBe(0);

    await page(room.practitionerClient, room.roomId);
    await eventually(async () => {
      expect((await roomOf(room.patientClient, room.roomId)).otherDeliveredSeq).toBe(2);
    });
    // Delivered is not read.
    const seen = await roomOf(room.patientClient, room.roomId);
    expect(seen.otherReadSeq).toBe(0);
    expect((await roomOf(room.practitionerClient, room.roomId)).unreadCount).toBe(2);

    // Fetching an older page never moves the mark back.
    await send(room.patientClient, room.roomId, 'three');
    await page(room.practitionerClient, room.roomId, 'before=2');
    await t.services.messages.deliveries.flush();
    expect((await roomOf(room.patientClient, room.roomId)).otherDeliveredSeq).toBe(2);
    await page(room.practitionerClient, room.roomId, 'after=2');
    await eventually(async () => {
      expect((await roomOf(room.patientClient, room.roomId)).otherDeliveredSeq).toBe(3);
    });
  });
});

// Several server processes share one PostgreSQL store (fan-out through Redis); SQLite is
// served by one process only, so there is nothing to race there.
const onPostgres = process.env.TEST_DATABASE_URL?.startsWith('postgres') ?? false;
if (!onPostgres)
  process.stdout.write(
    'messages.test.ts: "two server processes on one store" skipped: it needs PostgreSQL (SQLite is one process)\n',
  );

describe.skipIf(!onPostgres)('two server processes on one PostgreSQL store', () => {
  it('racing sends and re-sends through both still give seq 1..n and one message per clientId', async () => {
    const second = await startMessagingApp({ store: t.store, clock: t.clock });
    try {
      const room = await buildAcceptedAppointment(t);
      const clients = [
        room.patientClient,
        room.practitionerClient,
        await second.login(room.patient.user),
        await second.login(room.practitioner.user),
      ];
      const repeated = randomUUID();
      const results = await Promise.all([
        ...Array.from({ length: 60 }, (_, i) =>
          sendMessage(clients[i % 4]!, room.roomId, `message ${i}`),
        ),
        // The patient's retry lands on both processes at once.
        ...Array.from({ length: 20 }, (_, i) =>
          sendMessage(clients[i % 2 === 0 ? 0 : 2]!, room.roomId, 'retried', repeated),
        ),
      ]);
      const codes = results.map((r) => r.statusCode);
      expect(codes.filter((c) => c === 201)).toHaveLength(61);
      expect(codes.filter((c) => c === 200)).toHaveLength(19);
      const stored = await storedMessages(t, room.roomId);
      expectSeqs(stored, 1, 61);
      expect(stored.filter((m) => m.client_id === repeated)).toHaveLength(1);
    } finally {
      await second.stop();
    }
  });
});
