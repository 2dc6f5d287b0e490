import type { Kysely, Migration } from 'kysely';

/**
 * Web Push: one row per browser that asked for notifications (its push service endpoint
 * and the keys to encrypt for it), and the server's VAPID key pair when the configuration
 * gives none, generated once so every process and every restart signs with the same key
 * (a new key would silently orphan every subscription made with the old one).
 */
export const push: Migration = {
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('push_subscriptions')
      .addColumn('endpoint', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
      // The session that subscribed: signing out of it removes this device's subscription.
      .addColumn('session_id_hash', 'text')
      .addColumn('p256dh', 'text', (c) => c.notNull())
      .addColumn('auth', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('last_success_at', 'bigint')
      .execute();
    await db.schema
      .createIndex('push_subscriptions_user')
      .on('push_subscriptions')
      .column('user_id')
      .execute();
    await db.schema
      .createIndex('push_subscriptions_session')
      .on('push_subscriptions')
      .column('session_id_hash')
      .execute();

    await db.schema
      .createTable('push_keys')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('public_key', 'text', (c) => c.notNull())
      .addColumn('private_key', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
  },
};
