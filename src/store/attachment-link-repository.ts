import type { Kysely } from 'kysely';
import type { AttachmentLinksTable, DB } from './schema.js';

/** One-time links to files on the attachment origin. A credential, like a session: no health data. */
export class AttachmentLinkRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async insert(link: AttachmentLinksTable): Promise<void> {
    await this.db.insertInto('attachment_links').values(link).execute();
  }

  /**
   * Takes the link out as it is used: deleting and reading in one statement means two
   * requests with the same token cannot both succeed, whichever process they reach.
   */
  async redeem(tokenHash: string, now: number): Promise<AttachmentLinksTable | undefined> {
    const row = await this.db
      .deleteFrom('attachment_links')
      .where('token_hash', '=', tokenHash)
      .returningAll()
      .executeTakeFirst();
    return row && Number(row.expires_at) > now
      ? { ...row, expires_at: Number(row.expires_at) }
      : undefined;
  }

  async deleteExpired(now: number): Promise<void> {
    await this.db.deleteFrom('attachment_links').where('expires_at', '<=', now).execute();
  }
}
