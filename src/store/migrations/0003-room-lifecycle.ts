import { sql, type Kysely, type Migration } from 'kysely';

/** ROOM_OPEN_DAYS' default: rooms that exist before this migration get the default window. */
const DEFAULT_OPEN_MS = 30 * 24 * 3_600_000;

/**
 * A room takes new messages only while it is open: until `open_until` (the appointment's
 * time plus ROOM_OPEN_DAYS, moved on when the practitioner reopens it), and not once it
 * was closed (`closed_reason`, when its appointment is cancelled or declined). Expiry is
 * read from `open_until` against the clock, so no job has to close rooms on time.
 */
export const roomLifecycle: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('rooms')
      .addColumn('open_until', 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema.alterTable('rooms').addColumn('closed_at', 'bigint').execute();
    await db.schema
      .alterTable('rooms')
      .addColumn('closed_reason', 'text', (c) =>
        c.check(sql`closed_reason in ('appointment_cancelled', 'appointment_declined', 'expired')`),
      )
      .execute();
    await sql`
      update rooms set open_until = (
        select a.starts_at from appointments a where a.id = rooms.appointment_id
      ) + ${sql.lit(DEFAULT_OPEN_MS)}
    `.execute(db);
    // A cancelled appointment's room took messages until now; from here on it is closed.
    await sql`
      update rooms set
        closed_reason = 'appointment_cancelled',
        closed_at = (select a.updated_at from appointments a where a.id = rooms.appointment_id)
      where appointment_id in (select id from appointments where status = 'cancelled')
    `.execute(db);
  },
};
