import { sql, type Kysely } from 'kysely';
import type { Read } from './read.js';
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

  /**
   * Messages already stored for these (sender, client id) pairs, one index probe per pair,
   * as a read to run beside the send batch's others (`Store.readTogether`).
   * `sender_id IN (…) AND client_id IN (…)` probed every sender with every client id (n²:
   * 2,500 probes for a batch of 50, 1.5 ms a batch at the knee); row values name the pairs.
   */
  prepareFindByClientIds(
    pairs: readonly { senderId: string; clientId: string }[],
  ): Read<MessageRow[]> {
    const statements = [];
    // Two parameters a pair: well under SQLite's bound-parameter limit.
    for (let i = 0; i < pairs.length; i += 1000) {
      const chunk = pairs.slice(i, i + 1000);
      const values = sql.join(chunk.map((p) => sql`(${p.senderId}, ${p.clientId})`));
      statements.push(
        this.db
          .selectFrom('messages')
          .selectAll()
          .where(sql<boolean>`(sender_id, client_id) in (values ${values})`)
          .compile(),
      );
    }
    return { statements, decode: (rows) => rows.flat() as MessageRow[] };
  }
}
