import type { Kysely, Migration } from 'kysely';

/**
 * Fewer index pages written per message. Each page a commit changes is one more 4 KiB
 * frame in SQLite's WAL (written, fsynced, and written again by the checkpoint) or one more
 * page in PostgreSQL's WAL; the knee's server made about 38 `write` calls a message
 * (two a WAL frame, plus its socket frames). Two indexes
 * cost pages on every send and served no query:
 * - `messages_room_created` (room, created_at): every read of a room's messages goes by
 *   `messages_room_seq`, and seq order is creation order within a room.
 * - `rooms_patient` / `rooms_practitioner` carried `last_activity_at`, which every send
 *   moves, so each batch rewrote both entries of each room it touched. The lookups by
 *   participant stay, on the participant alone; the lists that sort by activity go through
 *   `room_members` and sort a user's rooms after finding them.
 */
export const leanIndexes: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema.dropIndex('messages_room_created').execute();
    await db.schema.dropIndex('rooms_patient').execute();
    await db.schema.dropIndex('rooms_practitioner').execute();
    await db.schema.createIndex('rooms_by_patient').on('rooms').column('patient_id').execute();
    await db.schema
      .createIndex('rooms_by_practitioner')
      .on('rooms')
      .column('practitioner_id')
      .execute();
  },
};
