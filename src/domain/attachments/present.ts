import type { AttachmentWire } from '../../shared/wire.js';
import type { AttachmentRow } from '../../store/schema.js';

export function presentAttachment(a: AttachmentRow): AttachmentWire {
  return {
    id: a.id,
    name: a.name,
    contentType: a.content_type,
    size: a.byte_size,
    kind: a.kind,
    ...(a.width !== null ? { width: a.width } : {}),
    ...(a.height !== null ? { height: a.height } : {}),
    ...(a.pages !== null ? { pages: a.pages } : {}),
    ...(a.thumb_key !== null ? { thumbnailUrl: `/api/attachments/${a.id}/thumbnail` } : {}),
    url: `/api/attachments/${a.id}`,
  };
}
