import { sql, type Kysely } from 'kysely';
import type { DB, SessionRow, UserRow } from './schema.js';

export type SessionWithUser = { session: SessionRow; user: UserRow };

export class SessionRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async insert(row: SessionRow): Promise<void> {
    await this.db.insertInto('sessions').values(row).execute();
  }

  /** The session and its user in one query: every authenticated request starts here. */
  async findWithUser(idHash: string): Promise<SessionWithUser | undefined> {
    const row = await this.db
      .selectFrom('sessions as s')
      .innerJoin('users as u', 'u.id', 's.user_id')
      .selectAll('u')
      .select([
        's.id_hash',
        's.user_id',
        's.csrf_token',
        's.created_at as session_created_at',
        's.last_seen_at',
        's.ip as session_ip',
        's.user_agent',
      ])
      .where('s.id_hash', '=', idHash)
      .executeTakeFirst();
    if (!row) return undefined;
    const {
      id_hash,
      user_id,
      csrf_token,
      session_created_at,
      last_seen_at,
      session_ip,
      user_agent,
      ...user
    } = row;
    return {
      session: {
        id_hash,
        user_id,
        csrf_token,
        created_at: session_created_at,
        last_seen_at,
        ip: session_ip,
        user_agent,
      },
      user,
    };
  }

  async touch(idHash: string, at: number): Promise<void> {
    await this.db
      .updateTable('sessions')
      .set({ last_seen_at: at })
      .where('id_hash', '=', idHash)
      .execute();
  }

  /**
   * Records activity for many sessions (never moving a mark back): one statement per 400
   * sessions (`UPDATE … FROM (VALUES …)`) instead of one per session, which the heartbeat
   * of 10,000 connections paid as 10,000 statements (and as many round trips to the
   * SQLite writer thread or PostgreSQL).
   */
  async touchMany(items: readonly { idHash: string; at: number }[]): Promise<void> {
    const run = async (db: Kysely<DB>) => {
      for (let i = 0; i < items.length; i += 400) {
        const values = sql.join(
          items.slice(i, i + 400).map((t) => sql`(${t.idHash}, cast(${t.at} as bigint))`),
        );
        await sql`update sessions set last_seen_at = v.column2 from (values ${values}) as v
          where sessions.id_hash = v.column1 and sessions.last_seen_at < v.column2`.execute(db);
      }
    };
    if (items.length === 0) return;
    if (this.db.isTransaction || items.length <= 400) return run(this.db);
    await this.db.transaction().execute(run);
  }

  async delete(idHash: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
  }

  /** Returns the hashes it removed, so live connections of those sessions can be closed. */
  async deleteForUser(userId: string): Promise<string[]> {
    const rows = await this.db
      .deleteFrom('sessions')
      .where('user_id', '=', userId)
      .returning('id_hash')
      .execute();
    return rows.map((r) => r.id_hash);
  }

  async deleteExpired(idleBefore: number, createdBefore: number): Promise<number> {
    const res = await this.db
      .deleteFrom('sessions')
      .where((eb) =>
        eb.or([eb('last_seen_at', '<', idleBefore), eb('created_at', '<', createdBefore)]),
      )
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}
