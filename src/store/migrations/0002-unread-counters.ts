import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Unread counts as counters on each participant's membership, so the room list and the
 * badge cost the same with ten messages or a million: received_count grows with each
 * message from the other participant; read_received with each read mark.
 */
export const unreadCounters: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .alterTable('room_members')
      .addColumn('received_count', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .alterTable('room_members')
      .addColumn('read_received', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await sql`
      update room_members set
        received_count = (select count(*) from messages m
          where m.room_id = room_members.room_id and m.sender_id <> room_members.user_id),
        read_received = (select count(*) from messages m
          where m.room_id = room_members.room_id and m.sender_id <> room_members.user_id
            and m.seq <= room_members.read_seq)
    `.execute(db);
    await db.schema
      .createIndex('messages_room_created')
      .on('messages')
      .columns(['room_id', 'created_at'])
      .execute();
  },
};
