import type { Kysely } from 'kysely';
import type { Dialect } from './database.js';
import type { AttachmentRow, DB } from './schema.js';

export class AttachmentRepository {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect,
  ) {}

  find(id: string): Promise<AttachmentRow | undefined> {
    return this.db.selectFrom('attachments').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * For each send of a batch, its sender's own uploads in its room that no message carries
   * yet, among the ids it names: one statement for the whole batch instead of one a send
   * (on PostgreSQL, a round trip each). On PostgreSQL the rows are locked: the batch
   * claims them after it takes the audit chain's lock, which must be the last it takes.
   */
  async findAttachable(
    sends: readonly { ids: readonly string[]; roomId: string; uploaderId: string }[],
  ): Promise<AttachmentRow[][]> {
    const ids = [...new Set(sends.flatMap((s) => s.ids))];
    const free = new Map<string, AttachmentRow>();
    // One parameter an id: well under SQLite's bound-parameter limit.
    for (let i = 0; i < ids.length; i += 1000) {
      let q = this.db
        .selectFrom('attachments')
        .selectAll()
        .where('id', 'in', ids.slice(i, i + 1000))
        .where('message_id', 'is', null)
        .orderBy('id');
      if (this.dialect === 'postgres') q = q.forUpdate();
      const rows = await q.execute();
      for (const a of rows) free.set(a.id, a);
    }
    return sends.map((s) =>
      s.ids.flatMap((id) => {
        const a = free.get(id);
        return a && a.room_id === s.roomId && a.uploader_id === s.uploaderId ? [a] : [];
      }),
    );
  }

  async attach(ids: readonly string[], messageId: string, at: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .updateTable('attachments')
      .set({ message_id: messageId, attached_at: at })
      .where('id', 'in', ids)
      .where('message_id', 'is', null)
      .execute();
  }

  /** Notes keys about to receive bytes, before the bytes are written (0011-blob-intents). */
  async intendBlobs(keys: readonly string[], at: number): Promise<void> {
    if (keys.length === 0) return;
    await this.db
      .insertInto('blob_intents')
      .values(keys.map((blob_key) => ({ blob_key, created_at: at })))
      .execute();
  }

  /** The keys' bytes are referred to now (or gone): they are no longer anyone's to sweep. */
  async settleBlobs(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.db.deleteFrom('blob_intents').where('blob_key', 'in', keys).execute();
  }

  /** Keys noted before `cutoff` and never settled: bytes of uploads that did not finish. */
  async unsettledBlobsBefore(cutoff: number, limit: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('blob_intents')
      .select('blob_key')
      .where('created_at', '<', cutoff)
      .orderBy('created_at')
      .limit(limit)
      .execute();
    return rows.map((r) => r.blob_key);
  }

  unattachedBefore(cutoff: number, limit: number): Promise<AttachmentRow[]> {
    return this.db
      .selectFrom('attachments')
      .selectAll()
      .where('message_id', 'is', null)
      .where('created_at', '<', cutoff)
      .orderBy('created_at')
      .limit(limit)
      .execute();
  }

  async deleteUnattached(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .deleteFrom('attachments')
      .where('id', 'in', ids)
      .where('message_id', 'is', null)
      .execute();
  }

  /** Encrypted rows whose data key is wrapped by another master key than `keyId`. */
  wrappedByOtherKey(keyId: string, limit: number) {
    return this.db
      .selectFrom('attachments')
      .select(['id', 'key_id', 'wrapped_key'])
      .where('key_id', 'is not', null)
      .where('key_id', '<>', keyId)
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  async rewrap(id: string, fromKeyId: string, keyId: string, wrapped: Buffer): Promise<void> {
    await this.db
      .updateTable('attachments')
      .set({ key_id: keyId, wrapped_key: wrapped })
      .where('id', '=', id)
      .where('key_id', '=', fromKeyId)
      .execute();
  }
}
