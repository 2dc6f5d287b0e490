import type { Kysely, Migration } from 'kysely';

/**
 * Bytes written before the row that refers to them: an upload stores its file and
 * thumbnail, then commits the `attachments` row, and a process that dies in between leaves
 * bytes nothing refers to. Each key is noted here before its bytes are written and removed
 * in the transaction that commits the row, so whatever is still here after an hour belongs
 * to an upload that never finished, and the sweep removes its bytes (from the store or the
 * bucket alike) without reading a byte of anyone's files.
 */
export const blobIntents: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('blob_intents')
      .addColumn('blob_key', 'text', (c) => c.primaryKey())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('blob_intents_created')
      .on('blob_intents')
      .column('created_at')
      .execute();
  },
};
