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
}
