import type { Kysely } from 'kysely';
import type { Dialect } from './database.js';
import type { DB, MessageRow } from './schema.js';

export class MessageRepository {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly _dialect: Dialect,
  ) {}

  async insertMany(rows: readonly MessageRow[]): Promise<void> {
    // 9 columns a row keeps one statement well under SQLite's bound-parameter limit.
    for (let i = 0; i < rows.length; i += 500) {
      await this.db
        .insertInto('messages')
        .values(rows.slice(i, i + 500))
        .execute();
    }
  }

  findById(id: string): Promise<MessageRow | undefined> {
    return this.db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Messages already stored for these client ids (any sender; callers match the sender). */
  findByClientIds(clientIds: readonly string[]): Promise<MessageRow[]> {
    if (clientIds.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('messages').selectAll().where('client_id', 'in', clientIds).execute();
  }

  /** A page of a room, always returned in ascending seq. */
  async page(
    roomId: string,
    opts: { after?: number | undefined; before?: number | undefined; limit: number },
  ): Promise<MessageRow[]> {
    let q = this.db
      .selectFrom('messages')
      .selectAll()
      .where('room_id', '=', roomId)
      .limit(opts.limit);
    if (opts.before !== undefined) {
      const rows = await q.where('seq', '<', opts.before).orderBy('seq', 'desc').execute();
      return rows.reverse();
    }
    if (opts.after !== undefined) q = q.where('seq', '>', opts.after).orderBy('seq', 'asc');
    else {
      // No cursor: the newest page, as a chat opens at the bottom.
      const rows = await q.orderBy('seq', 'desc').execute();
      return rows.reverse();
    }
    return q.execute();
  }

  /** Messages after `after` in each of several rooms, for replay on resume. */
  async afterInRooms(
    cursors: ReadonlyMap<string, number>,
    limitPerRoom: number,
  ): Promise<MessageRow[]> {
    const out: MessageRow[] = [];
    for (const [roomId, after] of cursors) {
      out.push(
        ...(await this.db
          .selectFrom('messages')
          .selectAll()
          .where('room_id', '=', roomId)
          .where('seq', '>', after)
          .orderBy('seq')
          .limit(limitPerRoom)
          .execute()),
      );
    }
    return out;
  }

  /** Newest messages written by others in the caller's rooms (dashboards' "recent messages"). */
  recentFromOthers(userId: string, limit: number): Promise<MessageRow[]> {
    return this.db
      .selectFrom('room_members as rm')
      .innerJoin('messages as m', 'm.room_id', 'rm.room_id')
      .selectAll('m')
      .where('rm.user_id', '=', userId)
      .where('m.sender_id', '<>', userId)
      .orderBy('m.created_at', 'desc')
      .orderBy('m.seq', 'desc')
      .limit(limit)
      .execute();
  }
}
