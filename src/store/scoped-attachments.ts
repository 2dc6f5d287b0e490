import type { Kysely } from 'kysely';
import type { AttachmentRow, DB } from './schema.js';
import type { Caller } from './scoped.js';

/**
 * Attachments, only in rooms the caller takes part in, and new ones only as their own
 * uploader. The sweep, the writer's batch and key rotation work across callers and use
 * `store.system().attachments` by name instead.
 */
export class ScopedAttachments {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly caller: Caller,
  ) {}

  /**
   * An upload no message carries yet is a draft: only its uploader sees it. The other
   * participant gets the same "not found" as a stranger until it is sent.
   */
  find(id: string): Promise<AttachmentRow | undefined> {
    const uid = this.caller.id;
    return this.db
      .selectFrom('attachments')
      .innerJoin('rooms', 'rooms.id', 'attachments.room_id')
      .selectAll('attachments')
      .where('attachments.id', '=', id)
      .where((eb) =>
        eb.or([eb('rooms.patient_id', '=', uid), eb('rooms.practitioner_id', '=', uid)]),
      )
      .where((eb) =>
        eb.or([
          eb('attachments.uploader_id', '=', uid),
          eb('attachments.message_id', 'is not', null),
        ]),
      )
      .executeTakeFirst();
  }

  /** A new upload by the caller; never one in somebody else's name. */
  async insertOwn(row: AttachmentRow): Promise<void> {
    if (row.uploader_id !== this.caller.id)
      throw new Error('an attachment is inserted by its own uploader');
    await this.db.insertInto('attachments').values(row).execute();
  }

  /** Bytes the caller uploaded since `since` (the daily quota). */
  async bytesSince(since: number): Promise<number> {
    const row = await this.db
      .selectFrom('attachments')
      .select((eb) => eb.fn.sum<number | string | null>('byte_size').as('total'))
      .where('uploader_id', '=', this.caller.id)
      .where('created_at', '>=', since)
      .executeTakeFirst();
    return Number(row?.total ?? 0);
  }
}
