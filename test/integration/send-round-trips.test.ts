import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttachmentWire } from '../../src/shared/wire.js';
import type { TestApp } from '../support/app.js';
import { photo, upload } from '../support/attachments.js';
import {
  buildAcceptedAppointment,
  buildPractitioner,
  startMessagingApp,
  unreadOf,
  type AcceptedAppointment,
} from '../support/factories.js';
import { verifyChain } from '../../src/domain/audit/verify.js';
import type { Processor } from '../../src/domain/events/processor.js';

/**
 * node-postgres sends one statement at a time on a connection and waits for its answer, so
 * on PostgreSQL each statement of a send batch is a round trip. SQLite has none to count.
 */
const onPostgres = process.env.TEST_DATABASE_URL?.startsWith('postgres') ?? false;
if (!onPostgres) {
  process.stdout.write(
    'send-round-trips.test.ts skipped: it counts PostgreSQL round trips (set TEST_DATABASE_URL=postgres://…)\n',
  );
}

type Query = (this: pg.Client, ...args: unknown[]) => unknown;

/** Every statement each pooled connection sends, in order, while `run` is under way. */
async function statementsDuring(run: () => Promise<unknown>): Promise<Map<pg.Client, string[]>> {
  const sent = new Map<pg.Client, string[]>();
  // Every pooled connection is a pg.Client: counting on the prototype sees them all.
  const proto = pg.Client.prototype as unknown as { query: Query };
  const original = proto.query;
  proto.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0] as string | { text?: string };
    const list = sent.get(this) ?? [];
    list.push(typeof first === 'string' ? first : (first.text ?? ''));
    sent.set(this, list);
    return original.apply(this, args);
  };
  try {
    await run();
  } finally {
    proto.query = original;
  }
  return sent;
}

/** The statements of the one transaction that locked rooms for a send, begin to commit. */
function sendTransaction(sent: Map<pg.Client, string[]>): string[] {
  const found: string[][] = [];
  for (const list of sent.values()) {
    let begin = -1;
    list.forEach((text, i) => {
      if (text === 'begin') begin = i;
      if (text === 'commit' && begin >= 0) {
        const tx = list.slice(begin, i + 1);
        if (tx.some((s) => /from "rooms".*for update/s.test(s))) found.push(tx);
        begin = -1;
      }
    });
  }
  expect(found, 'exactly one send transaction').toHaveLength(1);
  return found[0]!;
}

describe.skipIf(!onPostgres)('a send batch on PostgreSQL', () => {
  let t: TestApp;
  let chats: AcceptedAppointment[];
  beforeAll(async () => {
    // A processor that takes committed messages, so the batch has events and deliveries
    // to write (on one process nothing built in wants them).
    const messageLog: Processor = {
      name: 'message-log',
      takes: ['messages.committed'],
      handle: () => Promise.resolve(),
    };
    t = await startMessagingApp({ processors: [messageLog] });
    const practitioner = await buildPractitioner(t);
    chats = [];
    for (let i = 0; i < 3; i++)
      chats.push(await buildAcceptedAppointment(t, undefined, practitioner));
  });
  afterAll(() => t.stop());

  /** Sends submitted in one turn of the event loop: the writer commits them as one batch. */
  function sendTogether(withUpload?: { chat: AcceptedAppointment; ids: string[] }) {
    const writer = t.services.messages.writer;
    const sends = chats.flatMap((chat, i) => [
      writer.submit(chat.patient.ctx, chat.roomId, randomUUID(), `from the patient ${i}`),
      writer.submit(chat.practitioner.ctx, chat.roomId, randomUUID(), `from the doctor ${i}`),
    ]);
    if (withUpload)
      sends.push(
        writer.submit(
          withUpload.chat.patient.ctx,
          withUpload.chat.roomId,
          randomUUID(),
          '',
          withUpload.ids,
        ),
      );
    return Promise.all(sends);
  }

  it('writes messages over several rooms in seven round trips', async () => {
    const sent = await statementsDuring(async () => {
      const results = await sendTogether();
      expect(results.every((r) => r.created)).toBe(true);
    });
    const tx = sendTransaction(sent);
    // begin, lock the rooms, look up client ids, take the audit lock, read the chain's
    // head, write everything, commit.
    expect(tx, tx.join('\n---\n')).toHaveLength(7);

    // What the one statement wrote is what the separate ones did.
    for (const chat of chats) {
      const room = await t.services.store.system().rooms.findById(chat.roomId);
      expect(room!.last_seq).toBe(2);
      expect((await unreadOf(chat.patientClient)).total).toBe(1);
    }
    expect((await unreadOf(chats[0]!.practitionerClient)).total).toBe(3);
    expect(await verifyChain(t.services.store)).toMatchObject({ ok: true });
    const events = await t.services.store.db
      .selectFrom('events')
      .select('payload')
      .where('type', '=', 'messages.committed')
      .execute();
    expect(events).toHaveLength(6);
  });

  it('claims uploads in one more round trip, not one per message', async () => {
    const chat = chats[0]!;
    const ids: string[] = [];
    for (const name of ['a.jpg', 'b.jpg']) {
      const res = await upload(
        t,
        chat.patientClient,
        chat.roomId,
        name,
        'image/jpeg',
        await photo(),
      );
      expect(res.statusCode, res.body).toBe(201);
      ids.push(res.json<AttachmentWire>().id);
    }
    let carried: string[] = [];
    const sent = await statementsDuring(async () => {
      const results = await sendTogether({ chat, ids });
      expect(results.every((r) => r.created)).toBe(true);
      carried = (results.at(-1)!.message.attachments ?? []).map((a) => a.id);
    });
    expect(carried).toEqual(ids);
    const tx = sendTransaction(sent);
    expect(tx, tx.join('\n---\n')).toHaveLength(8);
    const stored = await t.services.store.db
      .selectFrom('attachments')
      .select(['id', 'message_id'])
      .where('id', 'in', ids)
      .execute();
    expect(stored.every((a) => a.message_id !== null)).toBe(true);
  });

  it('keeps a full batch of a thousand sends to seven round trips', async () => {
    const writer = t.services.messages.writer;
    const before = await Promise.all(
      chats.map((c) => t.services.store.system().rooms.findById(c.roomId)),
    );
    const sent = await statementsDuring(async () => {
      const results = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => {
          const chat = chats[i % chats.length]!;
          const who = i % 2 === 0 ? chat.patient : chat.practitioner;
          return writer.submit(who.ctx, chat.roomId, randomUUID(), `message ${i}`);
        }),
      );
      expect(results.every((r) => r.created)).toBe(true);
    });
    // Every column is one array parameter, so a thousand rows stay one statement.
    expect(sendTransaction(sent)).toHaveLength(7);
    const after = await Promise.all(
      chats.map((c) => t.services.store.system().rooms.findById(c.roomId)),
    );
    const added = after.map((r, i) => r!.last_seq - before[i]!.last_seq);
    expect(added).toEqual([334, 333, 333]);
    expect(await verifyChain(t.services.store)).toMatchObject({ ok: true });
  });
});

describe.skipIf(!onPostgres)('locks of a send batch on PostgreSQL', () => {
  it('waits for a member row it will write before it takes the audit chain’s lock, never while holding it', async () => {
    const t = await startMessagingApp();
    const c = await buildAcceptedAppointment(t);
    const url = new URL(t.store.url);
    const schema = url.searchParams.get('schema')!;
    url.searchParams.delete('schema');
    const connect = async () => {
      const client = new pg.Client({ connectionString: url.toString() });
      await client.connect();
      await client.query(`set search_path to ${schema}`);
      return client;
    };
    // Another transaction holds the practitioner's member row (as an archive does before it
    // writes its audit row, which waits for the chain).
    const holder = await connect();
    const probe = await connect();
    try {
      await holder.query('begin');
      await holder.query('select 1 from room_members where room_id = $1 for update', [c.roomId]);
      const sending = t.services.messages.send(c.patient.ctx, c.roomId, {
        clientId: randomUUID(),
        body: 'while the member row is held',
      });
      await expect
        .poll(async () => {
          const { rows } = await probe.query<{ n: number }>(
            `select count(*)::int as n from pg_stat_activity
              where datname = current_database() and wait_event_type = 'Lock' and pid <> $1
                and query like '%room_members%'`,
            [(holder as unknown as { processID: number }).processID],
          );
          return rows[0]!.n;
        })
        .toBeGreaterThan(0);
      // The waiting send does not hold the chain's lock: anyone else may take it now.
      await probe.query('begin');
      const { rows } = await probe.query<{ free: boolean }>(
        `select pg_try_advisory_xact_lock(hashtext('carechat:audit-chain'), hashtext(current_schema())) as free`,
      );
      expect(rows[0]!.free).toBe(true);
      await probe.query('rollback');
      await holder.query('rollback');
      expect((await sending).message.seq).toBe(1);
    } finally {
      await holder.end();
      await probe.end();
      await t.stop();
    }
  });
});
