import type { Kysely } from 'kysely';
import type { DB, PushSubscriptionRow } from './schema.js';

const VAPID_ID = 'vapid';

/**
 * Web Push subscriptions (one per browser, keyed by its push service endpoint) and the
 * server's stored VAPID key pair. Neither holds health information: an endpoint is an
 * opaque address at a push service, and the keys only encrypt payloads that carry none.
 */
export class PushRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /**
   * Stores the browser's subscription for this user and session. A browser re-subscribing
   * keeps its endpoint, so the row moves to whoever subscribed last from that browser: a
   * shared computer notifies only the person signed in on it now.
   */
  async save(row: Omit<PushSubscriptionRow, 'last_success_at'>): Promise<void> {
    await this.db
      .insertInto('push_subscriptions')
      .values({ ...row, last_success_at: null })
      .onConflict((oc) =>
        oc.column('endpoint').doUpdateSet({
          user_id: row.user_id,
          session_id_hash: row.session_id_hash,
          p256dh: row.p256dh,
          auth: row.auth,
          created_at: row.created_at,
          last_success_at: null,
        }),
      )
      .execute();
  }

  /** Removes one of the user's own subscriptions; answers whether there was one. */
  async removeOwn(userId: string, endpoint: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom('push_subscriptions')
      .where('user_id', '=', userId)
      .where('endpoint', '=', endpoint)
      .executeTakeFirst();
    return r.numDeletedRows > 0n;
  }

  /** The push service said the subscription is gone (404/410). */
  async remove(endpoint: string): Promise<void> {
    await this.db.deleteFrom('push_subscriptions').where('endpoint', '=', endpoint).execute();
  }

  /** Signing out of a session takes its device's subscriptions with it. */
  async removeForSessions(sessionIdHashes: readonly string[]): Promise<void> {
    if (sessionIdHashes.length === 0) return;
    await this.db
      .deleteFrom('push_subscriptions')
      .where('session_id_hash', 'in', sessionIdHashes)
      .execute();
  }

  async removeForUser(userId: string): Promise<void> {
    await this.db.deleteFrom('push_subscriptions').where('user_id', '=', userId).execute();
  }

  forUser(userId: string): Promise<PushSubscriptionRow[]> {
    return this.db
      .selectFrom('push_subscriptions')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .execute();
  }

  async markSuccess(endpoint: string, at: number): Promise<void> {
    await this.db
      .updateTable('push_subscriptions')
      .set({ last_success_at: at })
      .where('endpoint', '=', endpoint)
      .execute();
  }

  /**
   * The stored VAPID key pair, made from `generate` the first time. Processes starting
   * together race on the insert; the loser keeps the winner's pair, so all sign alike.
   */
  async vapidKeys(
    generate: () => { publicKey: string; privateKey: string },
    at: number,
  ): Promise<{ publicKey: string; privateKey: string }> {
    const read = () =>
      this.db
        .selectFrom('push_keys')
        .select(['public_key', 'private_key'])
        .where('id', '=', VAPID_ID)
        .executeTakeFirst();
    let row = await read();
    if (!row) {
      const keys = generate();
      await this.db
        .insertInto('push_keys')
        .values({
          id: VAPID_ID,
          public_key: keys.publicKey,
          private_key: keys.privateKey,
          created_at: at,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      row = await read();
    }
    if (!row) throw new Error('the VAPID key pair could not be stored');
    return { publicKey: row.public_key, privateKey: row.private_key };
  }

  /** The stored pair as kept (the private key possibly sealed), or undefined before the first start. */
  async storedVapidKeys(): Promise<{ publicKey: string; privateKey: string } | undefined> {
    const row = await this.db
      .selectFrom('push_keys')
      .select(['public_key', 'private_key'])
      .where('id', '=', VAPID_ID)
      .executeTakeFirst();
    return row && { publicKey: row.public_key, privateKey: row.private_key };
  }

  /** Replaces the stored private key's form (sealed or plain); the pair itself never changes. */
  async storeVapidPrivateKey(stored: string): Promise<void> {
    await this.db
      .updateTable('push_keys')
      .set({ private_key: stored })
      .where('id', '=', VAPID_ID)
      .execute();
  }
}
