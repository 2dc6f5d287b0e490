import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * The transactional outbox. `events` holds what happened (ids and facts, never health
 * information), written in the transaction that made it happen; `event_deliveries` holds
 * the work: one row per event and named processor that takes it, with its retry state.
 * The delivery's own id orders dispatch, so a processor sees its events in commit order
 * within each writer.
 */
export function outbox(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('subject_id', 'text')
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('events_created').on('events').column('created_at').execute();

      await db.schema
        .createTable('event_deliveries')
        .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('event_id', 'text', (c) =>
          c.notNull().references('events.id').onDelete('cascade'),
        )
        .addColumn('processor', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) =>
          c
            .notNull()
            .defaultTo('pending')
            .check(sql`state in ('pending','done','dead')`),
        )
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        // The idempotency key: one delivery per event and processor, however often it runs.
        .addUniqueConstraint('event_deliveries_event_processor', ['event_id', 'processor'])
        .execute();
      await db.schema
        .createIndex('event_deliveries_due')
        .on('event_deliveries')
        .columns(['processor', 'state', 'next_attempt_at'])
        .execute();
      await db.schema
        .createIndex('event_deliveries_state')
        .on('event_deliveries')
        .columns(['state', 'updated_at'])
        .execute();
    },
  };
}
