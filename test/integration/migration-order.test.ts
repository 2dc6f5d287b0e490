import { Migrator, sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateToLatest, openDatabase } from '../../src/store/database.js';
import { migrationProvider } from '../../src/store/migrations/index.js';
import { createTestStore } from '../support/app.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

describe('migrations that land out of order', () => {
  it('a store that already ran the outbox migration still takes the audit chain after it', async () => {
    const store = await createTestStore();
    cleanup.push(() => store.drop());
    const database = openDatabase(store.url, { poolSize: 2 });
    cleanup.push(() => database.close());
    const schema =
      database.dialect === 'postgres'
        ? (await sql<{ s: string }>`select current_schema() as s`.execute(database.db)).rows[0]!.s
        : undefined;
    // The store as it was before 0004 existed: every other migration applied.
    const all = await migrationProvider(database.dialect).getMigrations();
    const without = Object.fromEntries(
      Object.entries(all).filter(([name]) => name !== '0004-audit-chain'),
    );
    const { error } = await new Migrator({
      db: database.db,
      provider: { getMigrations: () => Promise.resolve(without) },
      ...(schema ? { migrationTableSchema: schema } : {}),
    }).migrateToLatest();
    expect(error).toBeUndefined();

    await migrateToLatest(database);
    const columns =
      database.dialect === 'postgres'
        ? await sql<{ name: string }>`select column_name as name from information_schema.columns
            where table_schema = current_schema() and table_name = 'audit_events'`.execute(
            database.db,
          )
        : await sql<{ name: string }>`select name from pragma_table_info('audit_events')`.execute(
            database.db,
          );
    expect(columns.rows.map((c) => c.name)).toEqual(expect.arrayContaining(['prev_hash', 'hash']));
  });
});
