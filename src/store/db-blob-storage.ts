import type { Kysely } from 'kysely';
import type { BlobStorage } from './blob-storage.js';
import type { DB } from './schema.js';

/** Rows stay small enough for either store to move them without large allocations. */
const CHUNK = 256 * 1024;

/** Bytes in numbered chunk rows of the store itself (SQLite or PostgreSQL). */
export class DbBlobStorage implements BlobStorage {
  readonly kind = 'db';

  constructor(private readonly db: Kysely<DB>) {}

  async put(key: string, data: Buffer): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('attachment_chunks').where('blob_key', '=', key).execute();
      for (let idx = 0; idx * CHUNK < data.length || idx === 0; idx++) {
        await trx
          .insertInto('attachment_chunks')
          .values({ blob_key: key, idx, data: data.subarray(idx * CHUNK, (idx + 1) * CHUNK) })
          .execute();
      }
    });
  }

  async get(key: string): Promise<Buffer | undefined> {
    const rows = await this.db
      .selectFrom('attachment_chunks')
      .select(['data'])
      .where('blob_key', '=', key)
      .orderBy('idx')
      .execute();
    if (rows.length === 0) return undefined;
    return Buffer.concat(rows.map((r) => Buffer.from(r.data)));
  }

  async delete(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.db.deleteFrom('attachment_chunks').where('blob_key', 'in', keys).execute();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
