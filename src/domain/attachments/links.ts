import { createHash, randomBytes } from 'node:crypto';
import type { Ctx } from '../context.js';
import type { Deps } from '../deps.js';
import { notFound } from '../errors.js';
import type { AttachmentContent, AttachmentPart, AttachmentService } from './attachments.js';

/** Long enough for a slow phone to start the download, short enough to be worthless later. */
export const LINK_TTL_MS = 5 * 60 * 1000;

const hash = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Files served from ATTACHMENT_ORIGIN, where the session cookie does not reach. The app's
 * own origin answers a download with a redirect to a one-time link there: an opaque random
 * token (nothing about the person, the room or the file can be read from it) that opens
 * one part of one file for the one user it was issued to, once, within five minutes. Only
 * its hash is stored; request logs carry paths only, never the query that holds it.
 */
export class AttachmentLinks {
  constructor(
    private readonly deps: Deps,
    private readonly attachments: AttachmentService,
    private readonly origin: string,
  ) {}

  /** A link for the caller, who must be allowed to read the file now. */
  async issue(ctx: Ctx, id: string, part: AttachmentPart): Promise<string> {
    await this.attachments.readable(ctx, id, part);
    const token = randomBytes(32).toString('base64url');
    const now = this.deps.clock.now();
    const links = this.deps.store.attachmentLinks;
    await links.deleteExpired(now);
    await links.insert({
      token_hash: hash(token),
      user_id: ctx.actor.id,
      attachment_id: id,
      part,
      expires_at: now + LINK_TTL_MS,
    });
    const path = `/api/attachments/${encodeURIComponent(id)}${part === 'thumbnail' ? '/thumbnail' : ''}`;
    return `${this.origin}${path}?access=${token}`;
  }

  /**
   * The file behind a link, read as the user it was issued to: the usual access check and
   * audit run again, so a user who left the room in the meantime gets nothing.
   */
  async open(
    token: string,
    id: string,
    part: AttachmentPart,
    ip: string | null,
  ): Promise<AttachmentContent> {
    const link = await this.deps.store.attachmentLinks.redeem(hash(token), this.deps.clock.now());
    if (!link || link.attachment_id !== id || link.part !== part) throw notFound('Attachment');
    const user = await this.deps.store.users.findById(link.user_id);
    if (!user || user.disabled_at !== null) throw notFound('Attachment');
    return this.attachments.read(
      { actor: { id: user.id, role: user.role, name: user.name }, ip },
      id,
      part,
    );
  }
}
