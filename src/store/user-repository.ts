import { sql, type Kysely } from 'kysely';
import type { DB, NewUser, Role, UserRow, UserUpdate } from './schema.js';

export class UserRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /** Inserts; answers false when the email is taken (the unique index decides races). */
  async insert(user: NewUser): Promise<boolean> {
    const rows = await this.db
      .insertInto('users')
      .values(user)
      .onConflict((oc) => oc.column('email_lower').doNothing())
      .returning('id')
      .execute();
    return rows.length === 1;
  }

  findById(id: string): Promise<UserRow | undefined> {
    return this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  findByEmail(email: string): Promise<UserRow | undefined> {
    return this.db
      .selectFrom('users')
      .selectAll()
      .where('email_lower', '=', email.trim().toLowerCase())
      .executeTakeFirst();
  }

  /** The account whose profile photo this file is, if any. */
  findByPhoto(fileId: string): Promise<UserRow | undefined> {
    return this.db
      .selectFrom('users')
      .selectAll()
      .where('photo_file_id', '=', fileId)
      .executeTakeFirst();
  }

  findManyByIds(ids: readonly string[]): Promise<UserRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('users').selectAll().where('id', 'in', ids).execute();
  }

  list(filter: { role?: Role | undefined; query?: string | undefined } = {}): Promise<UserRow[]> {
    let q = this.db.selectFrom('users').selectAll().orderBy('name').orderBy('id');
    if (filter.role) q = q.where('role', '=', filter.role);
    if (filter.query) {
      const like = `%${filter.query.toLowerCase().replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
      // An explicit ESCAPE: PostgreSQL escapes with a backslash by default, SQLite does not.
      q = q.where(
        sql<boolean>`(lower(name) like ${like} escape '\\' or email_lower like ${like} escape '\\')`,
      );
    }
    return q.execute();
  }

  async update(id: string, changes: UserUpdate): Promise<void> {
    await this.db.updateTable('users').set(changes).where('id', '=', id).execute();
  }

  async count(): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}
