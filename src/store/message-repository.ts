import type { Kysely } from 'kysely';
import type { DB, MessageRow } from './schema.js';

export class MessageRepository {
  constructor(private readonly db: Kysely<DB>) {}

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

  /** Messages already stored for these (sender, client id) pairs; uses the unique index. */
  async findByClientIds(
    pairs: readonly { senderId: string; clientId: string }[],
  ): Promise<MessageRow[]> {
    if (pairs.length === 0) return [];
    const senders = [...new Set(pairs.map((p) => p.senderId))];
    const clientIds = [...new Set(pairs.map((p) => p.clientId))];
    const wanted = new Set(pairs.map((p) => `${p.senderId}:${p.clientId}`));
    const rows = await this.db
      .selectFrom('messages')
      .selectAll()
      .where('sender_id', 'in', senders)
      .where('client_id', 'in', clientIds)
      .execute();
    return rows.filter((r) => wanted.has(`${r.sender_id}:${r.client_id}`));
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

  /**
   * Newest messages written by others in the caller's rooms (dashboards' "recent
   * messages"). Only each room's last few messages are considered, so the cost does not
   * grow with a room's history.
   */
  recentFromOthers(userId: string, limit: number): Promise<MessageRow[]> {
    return this.db
      .selectFrom('room_members as rm')
      .innerJoin('rooms as r', 'r.id', 'rm.room_id')
      .innerJoin('messages as m', (j) =>
        j
          .onRef('m.room_id', '=', 'r.id')
          .on((eb) => eb('m.seq', '>', eb(eb.ref('r.last_seq'), '-', limit * 4))),
      )
      .selectAll('m')
      .where('rm.user_id', '=', userId)
      .where('m.sender_id', '<>', userId)
      .orderBy('m.created_at', 'desc')
      .orderBy('m.seq', 'desc')
      .limit(limit)
      .execute();
  }
}
