import type { Kysely } from 'kysely';
import type { DB, SessionRow, UserRow } from './schema.js';

export type SessionWithUser = { session: SessionRow; user: UserRow };

export class SessionRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async insert(row: SessionRow): Promise<void> {
    await this.db.insertInto('sessions').values(row).execute();
  }

  async findWithUser(idHash: string): Promise<SessionWithUser | undefined> {
    const session = await this.db
      .selectFrom('sessions')
      .selectAll()
      .where('id_hash', '=', idHash)
      .executeTakeFirst();
    if (!session) return undefined;
    const user = await this.db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', session.user_id)
      .executeTakeFirst();
    return user ? { session, user } : undefined;
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
