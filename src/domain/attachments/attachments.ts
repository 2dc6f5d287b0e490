import { randomUUID } from 'node:crypto';
import type { AttachmentWire } from '../../shared/wire.js';
import type { BlobStorage } from '../../store/blob-storage.js';
import type { AttachmentRow } from '../../store/schema.js';
import { auditEntry, type Ctx } from '../context.js';
import type { Deps } from '../deps.js';
import { can } from '../access/policy.js';
import { AppError, notFound } from '../errors.js';
import { closedTitle, roomState, roomSubject } from '../room-lifecycle.js';
import { detectType, safeName } from './file-kind.js';
import { open, seal, type KeyRing } from './file-crypto.js';
import type { InputMime } from './image.js';
import { ImageEncoder } from './image-encoder.js';
import { PdfChecker } from './pdf-checker.js';
import { presentAttachment } from './present.js';

export interface AttachmentSettings {
  maxBytes: number;
  /** Bytes one user may upload in any 24 hours. */
  dailyBytes: number;
}

/** An upload as it arrives: the bytes still streaming in. */
export interface IncomingFile {
  name: string;
  declaredType: string;
  stream: AsyncIterable<Buffer>;
}

/** A stored file on its way out. */
export interface AttachmentContent {
  bytes: Buffer;
  contentType: string;
  name: string;
  /** Only re-encoded images (and thumbnails) may be shown in the page; everything else downloads. */
  inline: boolean;
}

export type AttachmentPart = 'file' | 'thumbnail';

const DAY = 24 * 60 * 60 * 1000;
/** How long an upload waits for the message that carries it. */
export const UNATTACHED_TTL_MS = DAY;
/** An upload still writing its bytes after this long has died: far past any real upload. */
const UNFINISHED_AFTER_MS = 60 * 60 * 1000;

export class AttachmentService {
  private readonly pdfs: PdfChecker;
  private readonly images: ImageEncoder;

  constructor(
    private readonly deps: Deps,
    private readonly storage: BlobStorage,
    private readonly keys: KeyRing,
    private readonly settings: AttachmentSettings,
  ) {
    this.pdfs = new PdfChecker({ log: deps.log });
    this.images = new ImageEncoder({ log: deps.log });
  }

  /** Stops the PDF check's worker thread and the image encoder's process. */
  async close(): Promise<void> {
    await Promise.all([this.pdfs.close(), this.images.close()]);
  }

  /**
   * Checks the room and the quota before reading a byte, reads at most the limit (the
   * upload is cut off as soon as it passes it), checks and re-encodes, stores the bytes
   * under random keys, then the row and its audit entry in one transaction.
   */
  async upload(ctx: Ctx, roomId: string, file: IncomingFile): Promise<AttachmentWire> {
    const scoped = this.deps.store.for(ctx);
    const now = this.deps.clock.now();
    const room = await scoped.rooms.find(roomId);
    const subject = room && roomSubject(room, now);
    if (!room || !subject || !can(ctx.actor, 'room.read', subject)) throw notFound('Room');
    // A file is only ever uploaded to be sent, so a room that takes no messages takes no files.
    if (!can(ctx.actor, 'room.write', subject)) {
      throw new AppError(
        'room_closed',
        closedTitle[roomState(room, now).closedReason ?? 'expired'],
      );
    }
    const used = await scoped.attachments.bytesSince(now - DAY);
    if (used >= this.settings.dailyBytes) throw quotaExceeded();

    const original = await readLimited(file.stream, this.settings.maxBytes);
    if (used + original.length > this.settings.dailyBytes) throw quotaExceeded();
    const type = await detectType(original, file.declaredType, file.name);
    const name = safeName(file.name, type.kind === 'pdf' ? 'document.pdf' : 'photo');

    const id = randomUUID();
    let stored: { bytes: Buffer; contentType: string; name: string; thumbnail?: Buffer };
    let dims: Pick<AttachmentRow, 'width' | 'height' | 'pages'>;
    if (type.kind === 'image') {
      // In the encoder's child process, at the lowest priority (image-encoder.ts).
      const image = await this.images.encode(original, type.mime as InputMime);
      stored = {
        bytes: image.bytes,
        contentType: image.contentType,
        name: withExtension(name, image.extension),
        thumbnail: image.thumbnail,
      };
      dims = { width: image.width, height: image.height, pages: null };
    } else {
      // In the checker's worker thread; `original` travels there and back, so use what returns.
      const checked = await this.pdfs.check(original);
      stored = { bytes: checked.bytes, contentType: 'application/pdf', name };
      dims = { width: null, height: null, pages: checked.pages };
    }

    const envelope = this.keys.newDataKey(id);
    const protect = (bytes: Buffer, part: string) =>
      envelope ? seal(envelope.dataKey, bytes, `${part}:${id}`) : bytes;
    const blobKey = randomUUID();
    const thumbKey = stored.thumbnail ? randomUUID() : null;
    const keys = [blobKey, ...(thumbKey ? [thumbKey] : [])];
    // Noted first: if this process dies before the row commits, the sweep finds the bytes.
    await this.deps.store.system().attachments.intendBlobs(keys, now);
    try {
      await this.storage.put(blobKey, protect(stored.bytes, 'file'));
      if (thumbKey && stored.thumbnail) {
        await this.storage.put(thumbKey, protect(stored.thumbnail, 'thumb'));
      }
    } catch (err) {
      await this.forget(keys);
      throw err;
    }
    const row: AttachmentRow = {
      id,
      room_id: room.id,
      uploader_id: ctx.actor.id,
      message_id: null,
      kind: type.kind,
      name: stored.name,
      content_type: stored.contentType,
      byte_size: stored.bytes.length,
      ...dims,
      blob_key: blobKey,
      thumb_key: thumbKey,
      thumb_size: stored.thumbnail?.length ?? null,
      key_id: envelope?.keyId ?? null,
      wrapped_key: envelope?.wrapped ?? null,
      created_at: now,
      attached_at: null,
    };
    try {
      await this.deps.store.transaction(async (tx) => {
        await tx.for(ctx).attachments.insertOwn(row);
        await tx.system().attachments.settleBlobs(keys);
        await tx.audit.record(
          auditEntry(
            ctx,
            now,
            'attachment.upload',
            { type: 'attachment', id },
            {
              roomId: room.id,
              kind: type.kind,
              size: row.byte_size,
            },
          ),
        );
      });
    } catch (err) {
      await this.forget(keys);
      throw err;
    }
    return presentAttachment(row);
  }

  /** The row, when the caller may read this part of it; the same "not found" otherwise. */
  async readable(ctx: Ctx, id: string, part: AttachmentPart): Promise<AttachmentRow> {
    const scoped = this.deps.store.for(ctx);
    const row = await scoped.attachments.find(id);
    const room = row && (await scoped.rooms.find(row.room_id));
    // A closed room's files stay readable to its two participants, as its messages do.
    if (!row || !room || !can(ctx.actor, 'room.read', roomSubject(room, this.deps.clock.now())))
      throw notFound('Attachment');
    if (part === 'thumbnail' && row.thumb_key === null) throw notFound('Thumbnail');
    return row;
  }

  /** The file or its thumbnail, to the room's two participants only; the read is audited first. */
  async read(ctx: Ctx, id: string, part: AttachmentPart): Promise<AttachmentContent> {
    const row = await this.readable(ctx, id, part);
    const key = part === 'file' ? row.blob_key : row.thumb_key;
    if (key === null) throw notFound('Thumbnail');
    const sealed = await this.storage.get(key);
    if (!sealed) throw notFound('Attachment');
    let bytes = sealed;
    if (row.key_id !== null && row.wrapped_key !== null) {
      const dataKey = this.keys.unwrap(row.id, row.key_id, Buffer.from(row.wrapped_key));
      bytes = open(dataKey, sealed, `${part === 'file' ? 'file' : 'thumb'}:${row.id}`);
    }
    await this.deps.readAudit.record(
      auditEntry(
        ctx,
        this.deps.clock.now(),
        'attachment.read',
        { type: 'attachment', id },
        {
          roomId: row.room_id,
          part,
        },
      ),
    );
    if (part === 'thumbnail') {
      return { bytes, contentType: 'image/webp', name: thumbnailName(row.name), inline: true };
    }
    return { bytes, contentType: row.content_type, name: row.name, inline: row.kind === 'image' };
  }

  /** Bytes of an upload that failed: removed now, or else by `sweepUnfinished` later. */
  private async forget(keys: readonly string[]): Promise<void> {
    try {
      await this.storage.delete(keys);
      await this.deps.store.system().attachments.settleBlobs(keys);
    } catch {
      // The intents stay, and the sweep tries again.
    }
  }

  /**
   * Removes the bytes of uploads that never reached their row (the process died between
   * the two, or the store refused the row and the bytes could not be removed then): keys
   * noted more than an hour ago and never settled. Returns how many keys it removed.
   */
  async sweepUnfinished(): Promise<number> {
    const cutoff = this.deps.clock.now() - UNFINISHED_AFTER_MS;
    const attachments = this.deps.store.system().attachments;
    let removed = 0;
    for (;;) {
      const keys = await attachments.unsettledBlobsBefore(cutoff, 200);
      if (keys.length === 0) return removed;
      await this.storage.delete(keys);
      await attachments.settleBlobs(keys);
      removed += keys.length;
      if (keys.length < 200) return removed;
    }
  }

  /** Removes uploads no message took up within a day: rows first, then their bytes. */
  async sweepUnattached(): Promise<number> {
    const cutoff = this.deps.clock.now() - UNATTACHED_TTL_MS;
    // Uploads of every user: housekeeping, not work on anyone's behalf.
    const attachments = this.deps.store.system().attachments;
    let removed = 0;
    for (;;) {
      const rows = await attachments.unattachedBefore(cutoff, 200);
      if (rows.length === 0) return removed;
      await attachments.deleteUnattached(rows.map((r) => r.id));
      await this.storage.delete(
        rows.flatMap((r) => [r.blob_key, ...(r.thumb_key ? [r.thumb_key] : [])]),
      );
      removed += rows.length;
      if (rows.length < 200) return removed;
    }
  }
}

const quotaExceeded = () =>
  new AppError(
    'attachment_quota_exceeded',
    'You have sent as many files as one day allows. Please try again tomorrow.',
  );

/** Collects the stream, failing the moment it passes `max` instead of after the whole body. */
export async function readLimited(stream: AsyncIterable<Buffer>, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.length;
    if (total > max) {
      throw new AppError(
        'file_too_large',
        `The file is larger than ${Math.floor(max / (1024 * 1024))} MB.`,
      );
    }
    chunks.push(chunk);
  }
  if (total === 0) throw new AppError('file_unreadable', 'The file is empty.');
  return Buffer.concat(chunks, total);
}

function withExtension(name: string, extension: string): string {
  const dot = name.lastIndexOf('.');
  const stem = dot > 0 ? name.slice(0, dot) : name;
  return `${stem}.${extension}`;
}

const thumbnailName = (name: string) => withExtension(name, 'webp');
