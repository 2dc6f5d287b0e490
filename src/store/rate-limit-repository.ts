import type { Kysely } from 'kysely';
import type { DB } from './schema.js';

/**
 * Fixed-window counters kept in the store, so that every server process counts the
 * same login attempts.
 */
export class RateLimitRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async peek(
    key: string,
    now: number,
    windowMs: number,
  ): Promise<{ count: number; resetAt: number }> {
    const row = await this.db
      .selectFrom('rate_limits')
      .selectAll()
      .where('key', '=', key)
      .executeTakeFirst();
    if (!row || row.window_start <= now - windowMs) return { count: 0, resetAt: now + windowMs };
    return { count: row.count, resetAt: row.window_start + windowMs };
  }

  /**
   * Counts one attempt and answers the count including it, in one statement: attempts
   * that arrive together each see their own number, so none slips in under the limit.
   */
  async hit(
    key: string,
    now: number,
    windowMs: number,
  ): Promise<{ count: number; resetAt: number }> {
    const expired = now - windowMs;
    const row = await this.db
      .insertInto('rate_limits')
      .values({ key, window_start: now, count: 1 })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet((eb) => ({
          count: eb
            .case()
            .when('rate_limits.window_start', '<=', expired)
            .then(1)
            .else(eb('rate_limits.count', '+', 1))
            .end(),
          window_start: eb
            .case()
            .when('rate_limits.window_start', '<=', expired)
            .then(now)
            .else(eb.ref('rate_limits.window_start'))
            .end(),
        })),
      )
      .returning(['count', 'window_start'])
      .executeTakeFirstOrThrow();
    return { count: row.count, resetAt: row.window_start + windowMs };
  }

  async clear(key: string): Promise<void> {
    await this.db.deleteFrom('rate_limits').where('key', '=', key).execute();
  }
}
