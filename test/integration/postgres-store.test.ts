import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import pg from 'pg';
import { auditEntry } from '../../src/domain/context.js';
import { verifyChain } from '../../src/domain/audit/verify.js';
import {
  SCHEMA_LOCK,
  migrateToLatest,
  openDatabase,
  type Database,
} from '../../src/store/database.js';
import { Store } from '../../src/store/store.js';
import { createTestStore, startTestApp, type TestStore } from '../support/app.js';

/**
 * The store behaves the same on both dialects. Runs in every tier: on SQLite by default,
 * and on PostgreSQL (a schema of its own per test) when TEST_DATABASE_URL is set.
 */
const onPostgres = process.env.TEST_DATABASE_URL?.startsWith('postgres') ?? false;

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function openStore(
  existing?: TestStore,
): Promise<{ database: Database; store: Store; test: TestStore }> {
  const test = existing ?? (await createTestStore());
  const database = openDatabase(test.url, { poolSize: 4 });
  await migrateToLatest(database);
  cleanup.push(async () => {
    await database.close();
    if (!existing) await test.drop();
  });
  return { database, store: Store.from(database), test };
}

async function seedRoom(
  store: Store,
): Promise<{ roomId: string; patientId: string; practitionerId: string }> {
  const now = Date.now();
  const user = (role: 'patient' | 'practitioner') => {
    const id = randomUUID();
    const email = `${role}.${id}@example.com`;
    return store.users
      .insert({
        id,
        role,
        email,
        email_lower: email,
        name: `${role} ${id.slice(0, 4)}`,
        password_hash: 'x',
        date_of_birth: null,
        specialty: null,
        working_hours: null,
        out_of_office: null,
        photo_file_id: null,
        disabled_at: null,
        created_at: now,
        updated_at: now,
      })
      .then(() => id);
  };
  const patientId = await user('patient');
  const practitionerId = await user('practitioner');
  const appointmentId = randomUUID();
  await store.system().appointments.insert({
    id: appointmentId,
    patient_id: patientId,
    practitioner_id: practitionerId,
    starts_at: now,
    reason: 'check-up',
    status: 'accepted',
    note: null,
    cancelled_by: null,
    created_at: now,
    updated_at: now,
  });
  const roomId = randomUUID();
  await store.system().rooms.insert({
    id: roomId,
    appointment_id: appointmentId,
    patient_id: patientId,
    practitioner_id: practitionerId,
    last_seq: 0,
    last_activity_at: now,
    created_at: now,
    open_until: now + 86_400_000,
    closed_at: null,
    closed_reason: null,
  });
  return { roomId, patientId, practitionerId };
}

/** One send as the message writer does it: lock the room, take the next seq, insert. */
function sendOne(store: Store, roomId: string, senderId: string, body: string): Promise<number> {
  return store.transaction(async (tx) => {
    const [[room]] = await tx.readTogether(tx.system().rooms.prepareLockForSend([roomId]));
    const seq = room!.last_seq + 1;
    const now = Date.now();
    await tx.system().messages.insertMany([
      {
        id: randomUUID(),
        room_id: roomId,
        seq,
        sender_id: senderId,
        client_id: randomUUID(),
        body,
        created_at: now,
        edited_at: null,
        deleted_at: null,
        attachments: null,
      },
    ]);
    const fromPatient = room!.patient_id === senderId;
    await tx.system().rooms.advanceMany(
      [
        {
          room: room!,
          lastSeq: seq,
          received: { patient: fromPatient ? 0 : 1, practitioner: fromPatient ? 1 : 0 },
        },
      ],
      now,
    );
    return seq;
  });
}

describe(`store on ${onPostgres ? 'PostgreSQL' : 'SQLite'}`, () => {
  it('returns times, counts and audit ids as numbers, and binary data as bytes', async () => {
    const { store } = await openStore();
    const { roomId, patientId, practitionerId } = await seedRoom(store);
    await sendOne(store, roomId, practitionerId, 'hello');
    const unread = await store.system().rooms.unreadForUser(patientId);
    expect(unread.get(roomId)).toBe(1);
    expect(await store.users.count()).toBe(2);
    const who = { actor: { id: patientId, role: 'patient' as const }, ip: null };
    await store.audit.recordMany([
      auditEntry(who, 1, 'room.view', null),
      auditEntry(who, 2, 'room.list', null, { n: 1 }),
    ]);
    const audit = await store.audit.list({ actorId: patientId, limit: 10 });
    expect(audit.map((a) => a.action)).toEqual(['room.list', 'room.view']);
    expect(typeof audit[0]!.id).toBe('number');
    expect(audit[0]!.id).toBeGreaterThan(audit[1]!.id);
    expect(typeof audit[0]!.at).toBe('number');
    const [listed] = await store.system().rooms.listForUser(patientId);
    expect(listed).toMatchObject({ id: roomId, last_seq: 1, last_body: 'hello', read_seq: 0 });
    expect(typeof listed!.last_activity_at).toBe('number');

    const data = Buffer.from([0, 1, 2, 255, 254]);
    await store.system().files.insert({
      id: 'f1',
      owner_id: null,
      content_type: 'application/octet-stream',
      byte_size: data.length,
      data,
      created_at: 5,
    });
    const file = await store.system().files.find('f1');
    expect(Buffer.from(file!.data).equals(data)).toBe(true);
  });

  it('keeps read marks moving forward and counts rate limits per window', async () => {
    const { store } = await openStore();
    const { roomId, patientId } = await seedRoom(store);
    expect(await store.system().rooms.advanceMark(roomId, patientId, 'read_seq', 3)).toBe(3);
    expect(await store.system().rooms.advanceMark(roomId, patientId, 'read_seq', 2)).toBe(3);
    expect((await store.system().rooms.member(roomId, patientId))!.delivered_seq).toBe(3);

    await store.rateLimits.hit('k', 1000, 100);
    await store.rateLimits.hit('k', 1050, 100);
    expect(await store.rateLimits.peek('k', 1060, 100)).toEqual({ count: 2, resetAt: 1100 });
    await store.rateLimits.hit('k', 1200, 100);
    expect(await store.rateLimits.peek('k', 1210, 100)).toEqual({ count: 1, resetAt: 1300 });
  });

  it('gives attempts counted at the same moment each its own number', async () => {
    const { store } = await openStore();
    const counts = await Promise.all(
      Array.from({ length: 20 }, () => store.rateLimits.hit('together', 5000, 1000)),
    );
    expect(counts.map((c) => c.count).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    expect(new Set(counts.map((c) => c.resetAt))).toEqual(new Set([6000]));
  });

  it('deletes expired sessions only', async () => {
    const { store } = await openStore();
    const { patientId } = await seedRoom(store);
    const session = (id: string, created: number, seen: number) =>
      store.sessions.insert({
        id_hash: id,
        user_id: patientId,
        csrf_token: 'c',
        created_at: created,
        last_seen_at: seen,
        ip: null,
        user_agent: null,
      });
    await session('fresh', 1000, 1000);
    await session('idle', 1000, 10);
    await session('old', 1, 1000);
    expect(await store.sessions.deleteExpired(500, 500)).toBe(2);
    expect(await store.sessions.findWithUser('fresh')).toBeDefined();
    expect(await store.sessions.findWithUser('idle')).toBeUndefined();
  });

  it('allocates gap-free sequence numbers when two connection pools send into one room at once', async () => {
    const first = await openStore();
    // A second pool on the same store stands in for a second server process.
    const second = onPostgres ? await openStore(first.test) : first;
    const { roomId, patientId, practitionerId } = await seedRoom(first.store);
    const n = 40;
    const seqs = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        i % 2 === 0
          ? sendOne(first.store, roomId, patientId, `p${i}`)
          : sendOne(second.store, roomId, practitionerId, `d${i}`),
      ),
    );
    const expected = Array.from({ length: n }, (_, i) => i + 1);
    expect([...seqs].sort((a, b) => a - b)).toEqual(expected);
    const stored = await first.store
      .for({ actor: { id: patientId, role: 'patient' } })
      .messages.page(roomId, { after: 0, limit: 200 });
    expect(stored.map((m) => m.seq)).toEqual(expected);
    expect((await first.store.system().rooms.findById(roomId))!.last_seq).toBe(n);
  });

  it('keeps one audit chain when two connections append in turn and when an append rolls back', async () => {
    // The second connection stands in for another process (or the message writer's worker)
    // appending to the same chain: the first must notice and not reuse the head it remembers.
    const first = await openStore();
    const second = await openStore(first.test);
    const who = { actor: { id: 'system', role: 'admin' as const }, ip: null };
    const append = (store: Store, at: number) =>
      store.audit.recordMany([auditEntry(who, at, 'room.view', null)]);
    await append(first.store, 1);
    await append(first.store, 2);
    await append(second.store, 3);
    await append(first.store, 4);
    await append(second.store, 5);
    await append(second.store, 6);
    await append(first.store, 7);
    // Appended inside a transaction that then fails: the head it made never happened.
    await expect(
      first.store.transaction(async (tx) => {
        await tx.audit.record(auditEntry(who, 8, 'room.view', null));
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    await append(first.store, 9);
    const verdict = await verifyChain(first.store);
    expect(verdict).toMatchObject({ ok: true, checked: 8 });
    const rows = await first.store.audit.chainPage(0, 100);
    expect(rows.map((r) => [Number(r.id), Number(r.at)])).toEqual(
      [1, 2, 3, 4, 5, 6, 7, 9].map((at, i) => [i + 1, at]),
    );
  });

  it('migrates two stores in one database side by side without mixing them up', async () => {
    // One after the other: the second must not mistake the first's bookkeeping for its own.
    const a = await openStore();
    const b = await openStore();
    await seedRoom(a.store);
    expect(await a.store.users.count()).toBe(2);
    expect(await b.store.users.count()).toBe(0);
    // Migrating again is a no-op.
    await migrateToLatest(a.database);
    expect(await a.store.users.count()).toBe(2);
  });

  it('serves login and readiness through the whole app', async () => {
    const app = await startTestApp();
    cleanup.push(() => app.stop());
    const patient = await app.createUser('patient', { email: 'Mixed.Case@Example.com' });
    const client = await app.login({ email: 'mixed.case@example.com' });
    expect(client.userId).toBe(patient.id);
    const session = await client.get('/api/auth/session');
    expect(session.statusCode).toBe(200);
    const ready = await app.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.json()).toMatchObject({
      status: 'ready',
      store: onPostgres ? 'postgres' : 'sqlite',
      storeReachable: true,
    });
    const found = await app.services.store.users.list({ query: 'mixed' });
    expect(found.map((u) => u.id)).toEqual([patient.id]);
    // Wildcards typed by a searcher are literal characters on both stores.
    const under = await app.createUser('patient', { name: 'Under_Score Person' });
    await app.createUser('patient', { name: 'UnderXScore Person' });
    const literal = await app.services.store.users.list({ query: 'under_score' });
    expect(literal.map((u) => u.id)).toEqual([under.id]);
    expect(await app.services.store.users.list({ query: 'under%' })).toEqual([]);
  });
});

if (!onPostgres) {
  process.stdout.write(
    'postgres-store.test.ts: the ?schema= creation case runs on PostgreSQL only (set TEST_DATABASE_URL=postgres://…)\n',
  );
}

describe.skipIf(!onPostgres)('a ?schema= that does not exist yet', () => {
  it('is created at start, under the schema lock, and the app runs in it', async () => {
    const schema = `fresh_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const url = new URL(process.env.TEST_DATABASE_URL!);
    url.searchParams.set('schema', schema);
    const dropped = { url: url.toString(), drop: () => dropSchema(schema) };
    const app = await startTestApp({ store: dropped });
    cleanup.push(async () => {
      await app.stop();
      await dropped.drop();
    });
    const patient = await app.createUser('patient');
    await app.login(patient);
    const tables = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = ${schema}
    `.execute(app.services.store.db);
    expect(tables.rows.map((r) => r.table_name)).toEqual(
      expect.arrayContaining(['users', 'sessions', 'messages']),
    );
    // Starting again finds it and migrates nothing twice.
    const again = openDatabase(url.toString());
    cleanup.push(() => again.close());
    await migrateToLatest(again);
    expect(await Store.from(again).users.count()).toBe(1);
  });
});

async function dropSchema(schema: string): Promise<void> {
  const c = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
  await c.connect();
  await c.query('select pg_advisory_lock(hashtext($1))', [SCHEMA_LOCK]);
  await c.query(`drop schema if exists ${schema} cascade`);
  await c.query('select pg_advisory_unlock(hashtext($1))', [SCHEMA_LOCK]);
  await c.end();
}
