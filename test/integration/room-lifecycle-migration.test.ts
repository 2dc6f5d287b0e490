import { randomUUID } from 'node:crypto';
import { Migrator, sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, openDatabase, type Database } from '../../src/store/database.js';
import { migrationProvider } from '../../src/store/migrations/index.js';
import type { DB } from '../../src/store/schema.js';
import { createTestStore, type TestStore } from '../support/app.js';

/**
 * Rooms that exist before the lifecycle migration: each gets its appointment's time plus
 * the default 30 days, and the room of an appointment that was already cancelled is
 * closed, so it stops taking messages from the moment the new version runs.
 */

const DAY = 86_400_000;
let testStore: TestStore;
let database: Database;

beforeAll(async () => {
  testStore = await createTestStore();
  database = openDatabase(testStore.url);
  const schema =
    database.dialect === 'postgres'
      ? (await sql<{ s: string }>`select current_schema() as s`.execute(database.db)).rows[0]!.s
      : undefined;
  const migrator = new Migrator({
    db: database.db,
    provider: migrationProvider(database.dialect),
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error } = await migrator.migrateTo('0002-unread-counters');
  if (error) throw new Error('could not migrate to 0002', { cause: error });
});
afterAll(async () => {
  await database.close();
  await testStore.drop();
});

async function seed(db: Kysely<DB>, status: 'accepted' | 'cancelled', startsAt: number) {
  const now = 1_700_000_000_000;
  const ids = {
    patient: randomUUID(),
    doctor: randomUUID(),
    appt: randomUUID(),
    room: randomUUID(),
  };
  for (const [id, role] of [
    [ids.patient, 'patient'],
    [ids.doctor, 'practitioner'],
  ] as const) {
    await sql`insert into users (id, role, email, email_lower, name, password_hash, created_at, updated_at)
      values (${id}, ${role}, ${id}, ${id}, 'x', 'x', ${now}, ${now})`.execute(db);
  }
  await sql`insert into appointments (id, patient_id, practitioner_id, starts_at, reason, status, created_at, updated_at)
    values (${ids.appt}, ${ids.patient}, ${ids.doctor}, ${startsAt}, 'r', ${status}, ${now}, ${now + 5})`.execute(
    db,
  );
  await sql`insert into rooms (id, appointment_id, patient_id, practitioner_id, last_seq, last_activity_at, created_at)
    values (${ids.room}, ${ids.appt}, ${ids.patient}, ${ids.doctor}, 0, ${now}, ${now})`.execute(
    db,
  );
  return { ...ids, updatedAt: now + 5 };
}

describe('migration 0003-room-lifecycle', () => {
  it('gives existing rooms their window and closes the rooms of cancelled appointments', async () => {
    const startsAt = 1_800_000_000_000;
    const open = await seed(database.db, 'accepted', startsAt);
    const cancelled = await seed(database.db, 'cancelled', startsAt);
    await migrateToLatest(database);
    const rows = await database.db
      .selectFrom('rooms')
      .select(['id', 'open_until', 'closed_at', 'closed_reason'])
      .where('id', 'in', [open.room, cancelled.room])
      .execute();
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(open.room)).toEqual({
      id: open.room,
      open_until: startsAt + 30 * DAY,
      closed_at: null,
      closed_reason: null,
    });
    expect(byId.get(cancelled.room)).toMatchObject({
      closed_at: cancelled.updatedAt,
      closed_reason: 'appointment_cancelled',
    });
    await expect(
      sql`update rooms set closed_reason = 'bored' where id = ${open.room}`.execute(database.db),
    ).rejects.toThrow();
  });
});
