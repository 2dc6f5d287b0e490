import type { Kysely } from 'kysely';
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

  /** Records activity for many sessions in one transaction (never moving a mark back). */
  async touchMany(items: readonly { idHash: string; at: number }[]): Promise<void> {
    const run = async (db: Kysely<DB>) => {
      for (const { idHash, at } of items) {
        await db
          .updateTable('sessions')
          .set({ last_seen_at: at })
          .where('id_hash', '=', idHash)
          .where('last_seen_at', '<', at)
          .execute();
      }
    };
    if (this.db.isTransaction) return run(this.db);
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
