import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * Attachments: one row per uploaded file (metadata and, with DATA_KEY, its wrapped data
 * key), the bytes in numbered chunks when they live in the store, and on each message the
 * presented attachments it carries, so a page of history needs no join.
 */
export function attachments(dialect: Dialect): Migration {
  const blob = dialect === 'postgres' ? 'bytea' : 'blob';
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('attachments')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('room_id', 'text', (c) => c.notNull().references('rooms.id'))
        .addColumn('uploader_id', 'text', (c) => c.notNull().references('users.id'))
        .addColumn('message_id', 'text', (c) => c.references('messages.id'))
        .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('image','pdf')`))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('byte_size', 'integer', (c) => c.notNull())
        .addColumn('width', 'integer')
        .addColumn('height', 'integer')
        .addColumn('pages', 'integer')
        .addColumn('blob_key', 'text', (c) => c.notNull().unique())
        .addColumn('thumb_key', 'text', (c) => c.unique())
        .addColumn('thumb_size', 'integer')
        .addColumn('key_id', 'text')
        .addColumn('wrapped_key', sql.raw(blob))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('attached_at', 'bigint')
        .execute();
      await db.schema
        .createIndex('attachments_uploader_created')
        .on('attachments')
        .columns(['uploader_id', 'created_at'])
        .execute();
      await db.schema
        .createIndex('attachments_message')
        .on('attachments')
        .column('message_id')
        .execute();

      await db.schema
        .createTable('attachment_chunks')
        .addColumn('blob_key', 'text', (c) => c.notNull())
        .addColumn('idx', 'integer', (c) => c.notNull())
        .addColumn('data', sql.raw(blob), (c) => c.notNull())
        .addPrimaryKeyConstraint('attachment_chunks_pk', ['blob_key', 'idx'])
        .execute();

      await db.schema.alterTable('messages').addColumn('attachments', 'text').execute();
    },
  };
}
