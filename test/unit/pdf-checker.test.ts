import { readdirSync, readFileSync } from 'node:fs';
import { PDFDocument, PDFName, PDFString } from 'pdf-lib';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/domain/errors.js';
import { checkPdf } from '../../src/domain/attachments/pdf.js';
import { PdfChecker } from '../../src/domain/attachments/pdf-checker.js';

async function pdf(withScript = false): Promise<Buffer> {
  const doc = await PDFDocument.create();
  doc.addPage([200, 200]).drawText('Results');
  doc.addPage([200, 200]);
  if (withScript) {
    const action = doc.context.obj({ S: 'JavaScript', JS: PDFString.of('app.alert(1)') });
    doc.catalog.set(PDFName.of('OpenAction'), action);
  }
  return Buffer.from(await doc.save());
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (err: unknown) => (err instanceof AppError ? { code: err.code, title: err.title } : err),
  );

/** The `nice` of each of this process's threads, from /proc (Linux: field 19 of stat). */
const ownThreadNices = () =>
  readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });

describe('the PDF checker (worker thread)', () => {
  const checker = new PdfChecker();
  afterAll(() => checker.close());

  it('answers the pages and hands back the very bytes it was given', async () => {
    const original = await pdf();
    const copy = Buffer.from(original);
    const checked = await checker.check(original);
    expect(checked.pages).toBe(2);
    expect(checked.bytes.equals(copy)).toBe(true);
  });

  it.runIf(process.platform === 'linux')(
    "parses at the lowest priority, on the worker's thread alone",
    async () => {
      const before = ownThreadNices().filter((n) => n === 19).length;
      const fresh = new PdfChecker();
      try {
        await fresh.check(await pdf());
        expect(ownThreadNices().filter((n) => n === 19).length).toBe(before + 1);
        expect(ownThreadNices()).toContain(0);
      } finally {
        await fresh.close();
      }
    },
  );

  it('refuses a bad PDF exactly as the check on the main thread does', async () => {
    // Active content, and a file that is no PDF at all: both refused, with the same words.
    for (const bytes of [await pdf(true), Buffer.from('%PDF-1.7\n%%EOF')]) {
      const here = await refusal(checkPdf(Buffer.from(bytes)));
      expect(here).toBeDefined();
      expect(await refusal(checker.check(bytes))).toEqual(here);
    }
  });

  it('checks files that arrive together one after another, each with its own answer', async () => {
    const files = await Promise.all([pdf(), pdf(true), pdf(), pdf(true)]);
    const answers = await Promise.all(
      files.map((f) =>
        checker.check(f).then(
          (c) => c.pages,
          (e: AppError) => e.code,
        ),
      ),
    );
    expect(answers).toEqual([2, 'pdf_active_content', 2, 'pdf_active_content']);
  });

  it('a worker that dies refuses that file with a clear error, and the next file gets a new worker', async () => {
    // A heap far too small for pdf-lib: the worker runs out of memory.
    const starved = new PdfChecker({ maxHeapMb: 1 });
    try {
      const big = Buffer.concat([await pdf(), Buffer.alloc(8 * 2 ** 20, 0x20)]);
      expect(await refusal(starved.check(big))).toMatchObject({ code: 'file_unreadable' });
      expect(await refusal(starved.check(await pdf()))).toMatchObject({ code: 'file_unreadable' });
    } finally {
      await starved.close();
    }
    // The shared checker is unaffected, and one that gave up on a file still checks the next.
    const impatient = new PdfChecker({ timeLimitMs: 0 });
    try {
      expect(await refusal(impatient.check(await pdf()))).toMatchObject({
        code: 'file_unreadable',
      });
    } finally {
      await impatient.close();
    }
    expect((await checker.check(await pdf())).pages).toBe(2);
  });
});
