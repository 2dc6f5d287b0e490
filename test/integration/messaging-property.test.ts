import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SendResult } from '../../src/domain/message-writer.js';
import type { TestApp } from '../support/app.js';
import {
  DAY,
  buildPatient,
  buildPractitioner,
  roomsOf,
  startMessagingApp,
  storedMessages,
  type Person,
} from '../support/factories.js';

/**
 * Random interleavings of sends, re-sends and reads by both participants, driven through
 * the domain services. Operations in one step run concurrently (they race in the group
 * commit writer and the read-mark update); after every step the invariants must hold.
 */

type Side = 'patient' | 'practitioner';
type Op =
  | { kind: 'send'; side: Side }
  | { kind: 'resend'; side: Side; pick: number }
  | { kind: 'read'; side: Side; seq: number };

const side = fc.constantFrom<Side>('patient', 'practitioner');
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('send' as const), side }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('resend' as const), side, pick: fc.nat(50) }),
  },
  {
    weight: 2,
    // Up to a little past the end: reads beyond the last message must clamp.
    arbitrary: fc.record({ kind: fc.constant('read' as const), side, seq: fc.nat(40) }),
  },
);
// Steps of 1..6 concurrent operations.
const scenario = fc.array(fc.array(op, { minLength: 1, maxLength: 8 }), {
  minLength: 1,
  maxLength: 20,
});

let t: TestApp;
let patient: Person;
let practitioner: Person;

beforeAll(async () => {
  t = await startMessagingApp();
  patient = await buildPatient(t);
  practitioner = await buildPractitioner(t);
});
afterAll(async () => {
  await t.stop();
});

/** A fresh room per run: the same pair may have any number of accepted appointments. */
async function openRoom(): Promise<string> {
  const { appointments } = t.services;
  const requested = await appointments.request(patient.ctx, {
    practitionerId: practitioner.user.id,
    startsAt: new Date(t.clock.now() + DAY).toISOString(),
    reason: 'property run',
  });
  const accepted = await appointments.transition(practitioner.ctx, requested.id, 'accept');
  return accepted.roomId!;
}

async function checkInvariants(
  roomId: string,
  clientIds: Record<Side, string[]>,
  readFloor: Record<Side, number>,
): Promise<void> {
  const people: Record<Side, Person> = { patient, practitioner };
  const rows = await storedMessages(t, roomId);

  // Sequence exactly 1..n.
  expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));

  // One row per (sender, client id), and a row for every client id that was sent.
  for (const s of ['patient', 'practitioner'] as const) {
    const mine = rows.filter((r) => r.sender_id === people[s].user.id).map((r) => r.client_id);
    expect(new Set(mine).size).toBe(mine.length);
    expect(new Set(mine)).toEqual(new Set(clientIds[s]));
  }

  const members = await t.services.store.system().rooms.members(roomId);
  for (const s of ['patient', 'practitioner'] as const) {
    const me = people[s].user.id;
    const mark = members.find((m) => m.user_id === me)!;
    // Read marks never go backwards and never pass the last message.
    expect(mark.read_seq).toBeGreaterThanOrEqual(readFloor[s]);
    expect(mark.read_seq).toBeLessThanOrEqual(rows.length);
    readFloor[s] = mark.read_seq;
    // Unread = the other side's messages after my read mark.
    const expected = rows.filter((r) => r.sender_id !== me && r.seq > mark.read_seq).length;
    const unread = await t.services.rooms.unread(people[s].ctx);
    expect(unread.rooms[roomId] ?? 0, `${s} unread`).toBe(expected);
  }
}

describe('messaging invariants under random interleavings', () => {
  it('one row per client id, seq 1..n, unread = the other side’s messages after the read mark', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (steps) => {
        const roomId = await openRoom();
        const people: Record<Side, Person> = { patient, practitioner };
        const clientIds: Record<Side, string[]> = { patient: [], practitioner: [] };
        /** The message each client id was first acknowledged as. */
        const original = new Map<string, string>();
        const readFloor: Record<Side, number> = { patient: 0, practitioner: 0 };
        let counter = 0;

        for (const step of steps) {
          const sends: { clientId: string; promise: Promise<SendResult> }[] = [];
          const reads: { side: Side; promise: Promise<number> }[] = [];
          for (const o of step) {
            const ctx = people[o.side].ctx;
            if (o.kind === 'read') {
              reads.push({ side: o.side, promise: t.services.rooms.markRead(ctx, roomId, o.seq) });
              continue;
            }
            const mine = clientIds[o.side];
            // A re-send repeats one of this side's earlier client ids (possibly one still in flight).
            const clientId =
              o.kind === 'resend' && mine.length > 0 ? mine[o.pick % mine.length]! : randomUUID();
            if (!mine.includes(clientId)) mine.push(clientId);
            counter += 1;
            sends.push({
              clientId,
              promise: t.services.messages.send(ctx, roomId, {
                clientId,
                body: `${o.side} says ${counter}`,
              }),
            });
          }
          const [sent, marks] = await Promise.all([
            Promise.all(sends.map((s) => s.promise)),
            Promise.all(reads.map((r) => r.promise)),
          ]);

          // Every acknowledgement of one client id names the same message; exactly one created it.
          const createdFor = new Map<string, number>();
          sent.forEach((res, i) => {
            const { clientId } = sends[i]!;
            const first = original.get(clientId);
            if (first) expect(res.message.id).toBe(first);
            else original.set(clientId, res.message.id);
            expect(res.message.clientId).toBe(clientId);
            if (res.created) createdFor.set(clientId, (createdFor.get(clientId) ?? 0) + 1);
          });
          for (const [, n] of createdFor) expect(n).toBe(1);
          marks.forEach((m, i) => expect(m).toBeGreaterThanOrEqual(readFloor[reads[i]!.side]));

          await checkInvariants(roomId, clientIds, readFloor);
        }

        // The HTTP room list tells each side the same unread count.
        const rows = await storedMessages(t, roomId);
        const members = await t.services.store.system().rooms.members(roomId);
        for (const s of ['patient', 'practitioner'] as const) {
          const me = people[s].user.id;
          const readSeq = members.find((m) => m.user_id === me)!.read_seq;
          const listed = (await roomsOf(people[s].client)).find((r) => r.id === roomId)!;
          expect(listed.readSeq).toBe(readSeq);
          expect(listed.lastSeq).toBe(rows.length);
          expect(listed.unreadCount).toBe(
            rows.filter((r) => r.sender_id !== me && r.seq > readSeq).length,
          );
        }
      }),
      { numRuns: 25 },
    );
  }, 120_000);
});
