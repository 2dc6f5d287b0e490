/**
 * The PDF check's worker thread (started by pdf-checker.ts): one file at a time arrives
 * with its bytes transferred here, and leaves with them transferred back, so the file is
 * never copied and the main thread never parses it.
 */
import { parentPort } from 'node:worker_threads';
import { AppError } from '../errors.js';
import { checkPdf } from './pdf.js';
import { lowerPriority } from './priority.js';

export type PdfCheckReply =
  | { pages: number; bytes: Uint8Array }
  | { refused: { code: AppError['code']; title: string } }
  | { failed: string };

const port = parentPort;
if (!port) throw new Error('pdf-worker.ts runs as a worker thread (see pdf-checker.ts)');
// Parsing takes what the event loop leaves (priority.ts): this thread only.
lowerPriority(19, 'thread');

port.on('message', (bytes: Uint8Array) => {
  checkPdf(bytes).then(
    ({ pages }) => {
      const reply: PdfCheckReply = { pages, bytes };
      port.postMessage(reply, [bytes.buffer as ArrayBuffer]);
    },
    (err: unknown) => {
      const reply: PdfCheckReply =
        err instanceof AppError
          ? { refused: { code: err.code, title: err.title } }
          : { failed: err instanceof Error ? err.message : String(err) };
      port.postMessage(reply);
    },
  );
});
