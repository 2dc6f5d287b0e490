import { PDFArray, PDFDict, PDFDocument, PDFName, PDFStream, type PDFObject } from 'pdf-lib';
import { AppError } from '../errors.js';

/**
 * Names that make a PDF do something on its own when opened or clicked: scripts, launching
 * programs, carrying other files. A document sent to a patient needs none of them.
 */
const ACTIVE_KEYS: ReadonlyMap<string, string> = new Map([
  ['JS', 'javascript'],
  ['JavaScript', 'javascript'],
  ['XFA', 'javascript'],
  ['EmbeddedFiles', 'embedded'],
  ['EF', 'embedded'],
]);
const ACTIVE_VALUES: ReadonlyMap<string, string> = new Map([
  ['JavaScript', 'javascript'],
  ['Launch', 'launch'],
  ['ImportData', 'launch'],
  ['RichMediaExecute', 'launch'],
  ['GoToE', 'embedded'],
  ['EmbeddedFile', 'embedded'],
  ['FileAttachment', 'embedded'],
  ['RichMedia', 'embedded'],
]);

const TITLES: Record<string, string> = {
  javascript: 'The PDF contains JavaScript and was refused. Print it to a new PDF and send that.',
  launch: 'The PDF can start other programs and was refused. Print it to a new PDF and send that.',
  embedded: 'The PDF carries other files inside it and was refused. Send those files separately.',
};

const unreadable = () =>
  new AppError('file_unreadable', 'The PDF could not be read. It may be damaged.');

/**
 * Checks a PDF with a real parser (pdf-lib reads the whole object graph, object streams
 * included) rather than by pattern: the header, the end marker, encryption, every object
 * for active content, and the page count. A raw scan of the bytes backs the parser up for
 * objects it could not place.
 */
export async function checkPdf(bytes: Uint8Array): Promise<{ pages: number }> {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (!/^%PDF-(1\.[0-7]|2\.0)\s/.test(text.subarray(0, 16).toString('latin1'))) {
    throw unreadable();
  }
  if (!text.subarray(Math.max(0, text.length - 1024)).includes('%%EOF')) throw unreadable();

  let doc: PDFDocument;
  try {
    doc = await PDFDocument.load(bytes, {
      ignoreEncryption: true,
      throwOnInvalidObject: true,
      updateMetadata: false,
    });
  } catch {
    throw unreadable();
  }
  if (doc.isEncrypted || doc.context.trailerInfo.Encrypt !== undefined) {
    throw new AppError(
      'pdf_encrypted',
      'The PDF is password-protected. Send a copy without a password.',
    );
  }
  const found = new Set<string>();
  for (const [, object] of doc.context.enumerateIndirectObjects()) scan(object, found, 0);
  const root = doc.context.trailerInfo.Root;
  if (root) scan(root, found, 0);
  const raw = text.toString('latin1');
  if (/\/(JavaScript|JS)[\s/<>[\]()]/.test(raw)) found.add('javascript');
  if (/\/Launch[\s/<>[\]()]/.test(raw)) found.add('launch');
  if (/\/EmbeddedFiles?[\s/<>[\]()]/.test(raw)) found.add('embedded');
  for (const reason of ['javascript', 'launch', 'embedded']) {
    if (found.has(reason)) throw new AppError('pdf_active_content', TITLES[reason]!);
  }
  let pages: number;
  try {
    pages = doc.getPageCount();
  } catch {
    throw unreadable();
  }
  if (pages < 1) throw unreadable();
  return { pages };
}

const nameOf = (n: PDFName) => n.decodeText();

function scan(object: PDFObject, found: Set<string>, depth: number): void {
  // Deeply nested direct objects are not how real documents look; refuse rather than recurse.
  if (depth > 64) throw unreadable();
  if (object instanceof PDFStream) return scan(object.dict, found, depth + 1);
  if (object instanceof PDFArray) {
    for (const item of object.asArray()) scan(item, found, depth + 1);
    return;
  }
  if (object instanceof PDFName) {
    const reason = ACTIVE_VALUES.get(nameOf(object));
    if (reason) found.add(reason);
    return;
  }
  if (object instanceof PDFDict) {
    for (const [key, value] of object.entries()) {
      const reason = ACTIVE_KEYS.get(nameOf(key));
      if (reason) found.add(reason);
      scan(value, found, depth + 1);
    }
  }
}
