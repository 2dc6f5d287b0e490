import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageWire } from '../../src/shared/wire.js';
import { createTestStore, type TestApp } from '../support/app.js';
import { buildAcceptedAppointment, buildAdmin, startMessagingApp } from '../support/factories.js';
import { ServerProcess } from '../support/server-process.js';

/**
 * SQLite with its write connection in a worker thread (SQLITE_WRITER_THREAD): a dead
 * writer fails what was in flight (never a false acknowledgement) and the next send
 * starts a new one; kill -9 of the whole process at a high send rate loses no
 * acknowledged message and duplicates none.
 */
const skipReason = process.env.TEST_DATABASE_URL?.startsWith('postgres')
  ? 'the writer thread is SQLite only (PostgreSQL has its own async driver)'
  : undefined;
if (skipReason) process.stdout.write(`sqlite-writer-thread.test.ts skipped: ${skipReason}\n`);

const ORIGIN = 'http://carechat.test';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
}, 30_000);

const turn = () => new Promise<void>((r) => setImmediate(r));

/** The room's last seq as stored (read outside any transaction). */
function lastSeqOf(t: TestApp, roomId: string) {
  return t.services.database.db
    .selectFrom('rooms')
    .select('last_seq')
    .where('id', '=', roomId)
    .executeTakeFirstOrThrow();
}

describe.skipIf(skipReason !== undefined)('the SQLite writer thread', () => {
  it('fails a send in flight when it dies (never a false ack), starts again, and a retry of the same client id stores it once', async () => {
    const t = await startMessagingApp({ env: { SQLITE_WRITER_THREAD: 'true' } });
    cleanup.push(() => t.stop());
    const writer = t.services.database.writerThread!;
    expect(writer.threadId).toBeTypeOf('number');
    const c = await buildAcceptedAppointment(t);
    const send = (clientId: string) =>
      t.services.messages.send(c.patient.ctx, c.roomId, { clientId, body: `m ${clientId}` });

    // A lone send: its transaction is with the writer when the thread dies.
    const lone = randomUUID();
    const inFlight = send(lone);
    await turn();
    await turn();
    const before = writer.threadId;
    await writer.kill();
    await expect(inFlight).rejects.toMatchObject({ code: 'SQLITE_WRITER_STOPPED' });
    // The client's retry starts a new writer and stores the message once (created, or
    // found: the thread may die just after the commit and before its answer).
    const retried = await send(lone);
    expect(writer.threadId).not.toBe(before);
    expect(await send(lone)).toMatchObject({ created: false, message: retried.message });

    // A batch whose transaction dies is retried send by send, each on the new writer:
    // every send settles, and each message is stored once.
    const ids = Array.from({ length: 30 }, () => randomUUID());
    const sends = ids.map((id) => send(id));
    await turn();
    await turn();
    await writer.kill();
    const settled = await Promise.allSettled(sends);
    const acked = new Map<string, MessageWire>([[lone, retried.message]]);
    settled.forEach((s, i) => {
      if (s.status === 'fulfilled') acked.set(ids[i]!, s.value.message);
      else expect((s.reason as { code?: string }).code).toBe('SQLITE_WRITER_STOPPED');
    });
    for (const id of ids) {
      const res = await send(id);
      if (acked.has(id)) expect(res).toMatchObject({ created: false, message: acked.get(id) });
      acked.set(id, res.message);
    }
    const stored = await t.services.store
      .for(c.patient.ctx)
      .messages.page(c.roomId, { after: 0, limit: 500 });
    expect(stored.map((m) => m.seq)).toEqual(stored.map((_, i) => i + 1));
    expect(stored).toHaveLength(acked.size);
    expect(new Set(stored.map((m) => m.client_id))).toEqual(new Set(acked.keys()));
    const unread = await t.services.store.system().rooms.unreadForUser(c.practitioner.user.id);
    expect(unread.get(c.roomId)).toBe(stored.length);
    const admin = await buildAdmin(t);
    const verdict = await admin.client.get('/api/admin/audit/verify');
    expect(verdict.json()).toMatchObject({ ok: true });
  });

  it("runs none of a transaction's later statements on the next writer once its own has died", async () => {
    const t = await startMessagingApp({ env: { SQLITE_WRITER_THREAD: 'true' } });
    cleanup.push(() => t.stop());
    const c = await buildAcceptedAppointment(t);
    const { db, writerThread } = t.services.database;
    const lastSeq = () => lastSeqOf(t, c.roomId);
    const before = await lastSeq();
    const tx = db.transaction().execute(async (trx) => {
      await trx.updateTable('rooms').set({ last_seq: 100 }).where('id', '=', c.roomId).execute();
      await writerThread!.kill();
      await trx.updateTable('rooms').set({ last_seq: 200 }).where('id', '=', c.roomId).execute();
    });
    await expect(tx).rejects.toMatchObject({ code: 'SQLITE_WRITER_STOPPED' });
    expect(await lastSeq()).toEqual(before);
  });

  it('sends a lone message in two crossings to the writer: its reads with the begin, its writes with the commit', async () => {
    const t = await startMessagingApp({ env: { SQLITE_WRITER_THREAD: 'true' } });
    cleanup.push(() => t.stop());
    const c = await buildAcceptedAppointment(t);
    const writer = t.services.database.writerThread!;
    await t.services.messages.send(c.patient.ctx, c.roomId, {
      clientId: randomUUID(),
      body: 'warm',
    });
    const before = writer.crossings;
    const sent = await t.services.messages.send(c.patient.ctx, c.roomId, {
      clientId: randomUUID(),
      body: 'counted',
    });
    expect(writer.crossings - before).toBe(2);
    expect(sent).toMatchObject({ created: true, message: { seq: 2, body: 'counted' } });
  });

  it('fails the commit of a transaction whose pipelined write failed, and keeps none of it', async () => {
    const t = await startMessagingApp({ env: { SQLITE_WRITER_THREAD: 'true' } });
    cleanup.push(() => t.stop());
    const c = await buildAcceptedAppointment(t);
    const lastSeq = () => lastSeqOf(t, c.roomId);
    const before = await lastSeq();
    const tx = t.services.store.transaction(async (trx) => {
      trx.pipelineWrites();
      const room = trx.db.updateTable('rooms').where('id', '=', c.roomId);
      await room.set({ last_seq: 100 }).execute();
      // Answered at once, as a pipelined write is: it fails on the writer (a second room
      // with the same id), and what follows must not commit.
      await sql`insert into rooms (id) values (${c.roomId})`.execute(trx.db);
      await room.set({ last_seq: 300 }).execute();
    });
    await expect(tx).rejects.toThrow(/constraint/i);
    expect(await lastSeq()).toEqual(before);
    // The writer is free again and takes the next send.
    const sent = await t.services.messages.send(c.patient.ctx, c.roomId, {
      clientId: randomUUID(),
      body: 'after the rollback',
    });
    expect(sent.message.seq).toBe(before.last_seq + 1);
  });

  it('kill -9 of the server during a burst of sends loses no acknowledged message and duplicates none', async () => {
    const store = await createTestStore();
    cleanup.push(() => store.drop());
    const seed = await startMessagingApp({ store });
    const c = await buildAcceptedAppointment(seed);
    await seed.stop();
    const env = {
      DATABASE_URL: store.url,
      PUBLIC_ORIGIN: ORIGIN,
      SQLITE_WRITER_THREAD: 'true',
      SEND_LIMIT_PER_SECOND: '10000',
      SEND_LIMIT_BURST: '100000',
    };
    const first = await ServerProcess.start('src/server/main.ts', env);
    cleanup.push(() => first.stop());
    const post = (base: string, clientId: string) =>
      fetch(`${base}/api/rooms/${c.roomId}/messages`, {
        method: 'POST',
        headers: {
          cookie: c.patientClient.cookie,
          'x-csrf-token': c.patientClient.csrfToken,
          'content-type': 'application/json',
          origin: ORIGIN,
        },
        body: JSON.stringify({ clientId, body: `burst ${clientId}` }),
      });

    // Sends keep coming, 40 at a time, until the process is killed in the middle of them.
    const acked = new Map<string, string>();
    const sent: string[] = [];
    let killed = false;
    const statuses = new Set<number>();
    const burst = async () => {
      while (!killed) {
        const ids = Array.from({ length: 40 }, () => randomUUID());
        sent.push(...ids);
        await Promise.all(
          ids.map(async (id) => {
            try {
              const res = await post(first.url, id);
              if (res.status === 201) acked.set(id, ((await res.json()) as MessageWire).id);
              else statuses.add(res.status);
            } catch {
              // The connection died with the process: not acknowledged.
            }
          }),
        );
      }
    };
    const load = burst();
    const deadline = Date.now() + 15_000;
    while (acked.size < 200) {
      expect(
        Date.now() < deadline,
        `only ${acked.size} acknowledged; ${[...statuses].join(',')}`,
      ).toBe(true);
      await new Promise((r) => setTimeout(r, 5));
    }
    await first.kill();
    killed = true;
    await load;

    const second = await ServerProcess.start('src/server/main.ts', env);
    cleanup.push(() => second.stop());
    const res = await fetch(`${second.url}/api/rooms/${c.roomId}/messages?after=0&limit=200`, {
      headers: { cookie: c.patientClient.cookie },
    });
    expect(res.status).toBe(200);
    let stored = ((await res.json()) as { messages: MessageWire[] }).messages;
    for (let after = stored.at(-1)?.seq ?? 0; stored.length % 200 === 0 && stored.length > 0;) {
      const more = (await (
        await fetch(`${second.url}/api/rooms/${c.roomId}/messages?after=${after}&limit=200`, {
          headers: { cookie: c.patientClient.cookie },
        })
      ).json()) as { messages: MessageWire[] };
      if (more.messages.length === 0) break;
      stored = [...stored, ...more.messages];
      after = more.messages.at(-1)!.seq;
    }
    const byClient = new Map(stored.map((m) => [m.clientId, m.id]));
    expect(byClient.size).toBe(stored.length);
    for (const [clientId, id] of acked) expect(byClient.get(clientId), clientId).toBe(id);
    expect(stored.map((m) => m.seq)).toEqual(stored.map((_, i) => i + 1));
    // A retry after the restart stores what was not acknowledged once, and nothing twice.
    const retried = await Promise.all(sent.slice(0, 100).map((id) => post(second.url, id)));
    for (const [i, r] of retried.entries()) {
      expect([200, 201]).toContain(r.status);
      const m = (await r.json()) as MessageWire;
      if (acked.has(sent[i]!)) expect(m.id).toBe(acked.get(sent[i]!));
    }
  });
});
