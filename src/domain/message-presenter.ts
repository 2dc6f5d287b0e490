import type { MessageRow } from '../store/schema.js';
import type { AttachmentWire, MessageWire } from '../shared/wire.js';
import { iso } from './clock.js';

export function presentMessage(m: MessageRow): MessageWire {
  return {
    id: m.id,
    roomId: m.room_id,
    seq: m.seq,
    senderId: m.sender_id,
    clientId: m.client_id,
    body: m.deleted_at !== null ? '' : m.body,
    createdAt: iso(m.created_at),
    ...(m.edited_at !== null ? { editedAt: iso(m.edited_at) } : {}),
    ...(m.deleted_at !== null ? { deletedAt: iso(m.deleted_at) } : {}),
    // A retracted message no longer offers its files.
    ...(m.attachments && m.deleted_at === null
      ? { attachments: JSON.parse(m.attachments) as AttachmentWire[] }
      : {}),
  };
}
