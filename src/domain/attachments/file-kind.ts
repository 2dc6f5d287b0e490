import { fileTypeFromBuffer } from 'file-type';
import type { AttachmentKind } from '../../store/schema.js';
import { AppError } from '../errors.js';

/** What the bytes turned out to be, once they agree with the declared type and the name. */
export interface DetectedType {
  kind: AttachmentKind;
  mime: AcceptedMime;
}

type AcceptedMime =
  'image/jpeg' | 'image/png' | 'image/webp' | 'image/gif' | 'image/heic' | 'application/pdf';

interface Accepted {
  kind: AttachmentKind;
  /** Content types a client may declare for it. */
  declared: readonly string[];
  extensions: readonly string[];
}

const ACCEPTED: Record<AcceptedMime, Accepted> = {
  'image/jpeg': {
    kind: 'image',
    declared: ['image/jpeg', 'image/jpg'],
    extensions: ['jpg', 'jpeg'],
  },
  'image/png': { kind: 'image', declared: ['image/png'], extensions: ['png'] },
  'image/webp': { kind: 'image', declared: ['image/webp'], extensions: ['webp'] },
  'image/gif': { kind: 'image', declared: ['image/gif'], extensions: ['gif'] },
  'image/heic': {
    kind: 'image',
    declared: ['image/heic', 'image/heif', 'image/heic-sequence', 'image/heif-sequence'],
    extensions: ['heic', 'heif'],
  },
  'application/pdf': { kind: 'pdf', declared: ['application/pdf'], extensions: ['pdf'] },
};

const isAccepted = (mime: string): mime is AcceptedMime => Object.hasOwn(ACCEPTED, mime);

const refuse = (title: string) => new AppError('unsupported_media_type', title);
const SUPPORTED = 'Send a photo (JPEG, PNG, WebP, GIF or HEIC) or a PDF.';

/**
 * The type comes from the bytes; the declared type and the name's extension must agree
 * with it, so a file cannot be one thing to us and another to the browser or the
 * recipient's computer.
 */
export async function detectType(
  bytes: Uint8Array,
  declaredType: string,
  name: string,
): Promise<DetectedType> {
  const found = await fileTypeFromBuffer(bytes);
  // file-type names HEIF stills image/heif or image/heic depending on the brand.
  const mime = found?.mime === 'image/heif' ? 'image/heic' : found?.mime;
  if (mime === undefined || !isAccepted(mime)) {
    throw refuse(`This kind of file cannot be sent. ${SUPPORTED}`);
  }
  const accepted = ACCEPTED[mime];
  const declared = declaredType.split(';')[0]!.trim().toLowerCase();
  if (!accepted.declared.includes(declared)) {
    throw refuse(`The file's contents do not match its declared type. ${SUPPORTED}`);
  }
  const extension = /\.([a-z0-9]{1,8})$/i.exec(name)?.[1]?.toLowerCase();
  if (extension === undefined || !accepted.extensions.includes(extension)) {
    throw refuse(`The file's name does not match its contents. ${SUPPORTED}`);
  }
  refusePolyglot(bytes);
  return { kind: accepted.kind, mime };
}

const latin1 = (bytes: Uint8Array, from: number, to: number) =>
  Buffer.from(bytes.buffer, bytes.byteOffset + from, Math.max(0, to - from)).toString('latin1');

/**
 * A file that is also something else: markup a browser would sniff as HTML or SVG, or an
 * archive (whose directory sits at the end of the file, where ZIP readers look). Images
 * are re-encoded anyway, but a PDF is served as sent, and no one should receive a file
 * that means two things.
 */
function refusePolyglot(bytes: Uint8Array): void {
  const head = latin1(bytes, 0, Math.min(bytes.length, 4096)).toLowerCase();
  if (/<(?:!doctype|html|head|body|script|svg|iframe|object|embed)[\s>/]/.test(head)) {
    throw refuse('The file also contains web page markup and was refused.');
  }
  const tail = latin1(bytes, Math.max(0, bytes.length - 65_557), bytes.length);
  if (tail.includes('PK\x05\x06') || tail.includes('PK\x06\x06')) {
    throw refuse('The file also contains an archive and was refused.');
  }
}

/** The name without any path, control characters or bidi tricks, at most 200 characters. */
export function safeName(raw: string, fallback: string): string {
  const base = raw.split(/[\\/]/).pop() ?? '';
  const cleaned = base
    .normalize('NFC')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001F\u007F-\u009F\u200E\u200F\u202A-\u202E\u2066-\u2069]/g, '')
    .replace(/^[.\s]+/, '')
    .trim();
  if (cleaned === '') return fallback;
  const chars = [...cleaned];
  if (chars.length <= 200) return cleaned;
  const dot = cleaned.lastIndexOf('.');
  const ext = dot > 0 && cleaned.length - dot <= 9 ? cleaned.slice(dot) : '';
  return chars.slice(0, 200 - [...ext].length).join('') + ext;
}
