import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../database.js';

export function initial(dialect: Dialect): Migration {
  const blob = dialect === 'postgres' ? 'bytea' : 'blob';
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('files')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('owner_id', 'text')
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('byte_size', 'integer', (c) => c.notNull())
        .addColumn('data', sql.raw(blob), (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('role', 'text', (c) =>
          c.notNull().check(sql`role in ('patient','practitioner','admin')`),
        )
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('email_lower', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('date_of_birth', 'text')
        .addColumn('specialty', 'text')
        .addColumn('working_hours', 'text')
        .addColumn('out_of_office', 'text')
        .addColumn('photo_file_id', 'text', (c) => c.references('files.id'))
        .addColumn('disabled_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('users_role').on('users').columns(['role', 'name']).execute();

      await db.schema
        .createTable('sessions')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('csrf_token', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
        .addColumn('ip', 'text')
        .addColumn('user_agent', 'text')
        .execute();
      await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();

      await db.schema
        .createTable('audit_events')
        .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor_id', 'text')
        .addColumn('actor_role', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target_type', 'text')
        .addColumn('target_id', 'text')
        .addColumn('ip', 'text')
        .addColumn('detail', 'text')
        .execute();
      await db.schema.createIndex('audit_at').on('audit_events').column('at').execute();
      await db.schema
        .createIndex('audit_actor')
        .on('audit_events')
        .columns(['actor_id', 'at'])
        .execute();
      await db.schema
        .createIndex('audit_target')
        .on('audit_events')
        .columns(['target_id', 'at'])
        .execute();

      await db.schema
        .createTable('appointments')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('patient_id', 'text', (c) => c.notNull().references('users.id'))
        .addColumn('practitioner_id', 'text', (c) => c.notNull().references('users.id'))
        .addColumn('starts_at', 'bigint', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) =>
          c.notNull().check(sql`status in ('requested','accepted','declined','cancelled')`),
        )
        .addColumn('note', 'text')
        .addColumn('cancelled_by', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('appointments_patient')
        .on('appointments')
        .columns(['patient_id', 'starts_at'])
        .execute();
      await db.schema
        .createIndex('appointments_practitioner')
        .on('appointments')
        .columns(['practitioner_id', 'starts_at'])
        .execute();

      // One room per accepted appointment; deliberately no uniqueness on the
      // patient–practitioner pair (the old system's bug).
      await db.schema
        .createTable('rooms')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('appointment_id', 'text', (c) =>
          c.notNull().unique().references('appointments.id'),
        )
        .addColumn('patient_id', 'text', (c) => c.notNull().references('users.id'))
        .addColumn('practitioner_id', 'text', (c) => c.notNull().references('users.id'))
        .addColumn('last_seq', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_activity_at', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('rooms_patient')
        .on('rooms')
        .columns(['patient_id', 'last_activity_at'])
        .execute();
      await db.schema
        .createIndex('rooms_practitioner')
        .on('rooms')
        .columns(['practitioner_id', 'last_activity_at'])
        .execute();

      await db.schema
        .createTable('room_members')
        .addColumn('room_id', 'text', (c) => c.notNull().references('rooms.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
        .addColumn('read_seq', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('delivered_seq', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('archived_at', 'bigint')
        .addPrimaryKeyConstraint('room_members_pk', ['room_id', 'user_id'])
        .execute();
      await db.schema
        .createIndex('room_members_user')
        .on('room_members')
        .columns(['user_id', 'room_id'])
        .execute();

      await db.schema
        .createTable('messages')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('room_id', 'text', (c) => c.notNull().references('rooms.id'))
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('sender_id', 'text', (c) => c.notNull().references('users.id'))
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('edited_at', 'bigint')
        .addColumn('deleted_at', 'bigint')
        .addUniqueConstraint('messages_room_seq', ['room_id', 'seq'])
        .addUniqueConstraint('messages_sender_client', ['sender_id', 'client_id'])
        .execute();

      await db.schema
        .createTable('rate_limits')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('window_start', 'bigint', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .execute();
    },
  };
}
