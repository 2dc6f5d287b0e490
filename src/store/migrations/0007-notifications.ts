import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Notifications: each user's preferences (a missing row means the defaults), with the key
 * that signs their one-click unsubscribe links; and, per room and recipient, what the
 * last e-mail about that room covered, so a burst gives one mail and a crash after the
 * send does not give a second. Booleans are 0/1 integers so the schema is one for both
 * stores.
 */
export const notifications: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('notification_preferences')
      .addColumn('user_id', 'text', (c) =>
        c.primaryKey().references('users.id').onDelete('cascade'),
      )
      .addColumn('email', 'text', (c) =>
        c
          .notNull()
          .defaultTo('offline')
          .check(sql`email in ('off','offline')`),
      )
      .addColumn('quiet_minutes', 'integer', (c) =>
        c
          .notNull()
          .defaultTo(10)
          .check(sql`quiet_minutes between 1 and 1440`),
      )
      .addColumn('push', 'integer', (c) =>
        c
          .notNull()
          .defaultTo(1)
          .check(sql`push in (0,1)`),
      )
      // Random, per user: signs unsubscribe links; replacing it voids every link sent.
      .addColumn('unsubscribe_key', 'text')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('notification_state')
      .addColumn('room_id', 'text', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      // The last e-mail about this room to this user: when, up to which seq, for which event.
      .addColumn('mailed_at', 'bigint')
      .addColumn('mailed_seq', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('mail_event_id', 'text')
      // The one reminder for that e-mail (cleared when a newer e-mail goes).
      .addColumn('reminded_at', 'bigint')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('notification_state_pk', ['room_id', 'user_id'])
      .execute();
  },
};
