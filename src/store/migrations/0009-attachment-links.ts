import type { Kysely, Migration } from 'kysely';

/**
 * One-time links to a file on ATTACHMENT_ORIGIN, where the session cookie does not reach:
 * only a hash of each token is kept, with the one user and file (and part) it opens and
 * its short expiry. Kept in the store so that every process can redeem what another issued.
 */
export const attachmentLinks: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('attachment_links')
      .addColumn('token_hash', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('attachment_id', 'text', (c) => c.notNull())
      .addColumn('part', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('attachment_links_expires')
      .on('attachment_links')
      .column('expires_at')
      .execute();
  },
};
