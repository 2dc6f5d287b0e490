import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { AppError } from '../errors.js';
import { IsolatedRunner } from './isolated-runner.js';
import type { PdfCheckReply } from './pdf-worker.js';

export interface CheckedPdf {
  pages: number;
  /** The bytes that were checked: the ones handed to `check` no longer hold them. */
  bytes: Buffer;
}

export interface PdfCheckerOptions {
  /** A check still running after this long is stopped and the file refused. */
  timeLimitMs?: number;
  /** The worker's heap: a file that needs more is refused instead of growing the server. */
  maxHeapMb?: number;
  log?: Pick<Logger, 'warn'>;
}

const uncheckable = () =>
  new AppError(
    'file_unreadable',
    'The PDF could not be checked. It may be damaged, or too complex to check here.',
  );

/**
 * pdf-lib's checks (pdf.ts) in a worker thread instead of the event loop: parsing is
 * synchronous and grows with the number of objects, not the bytes (15 ms for the
 * benchmark's one-image 9 MiB PDF, 70-220 ms for a 150 KB one of 300 text pages, seconds
 * for larger ones), and on the main thread every socket waited for it. One worker, one
 * file at a time (isolated-runner.ts): checks never take more than one core from the
 * sockets, and a file that crashes the worker, exhausts its heap or runs past the time
 * limit is refused alone, answered with `file_unreadable`; the next file gets a new worker.
 */
export class PdfChecker extends IsolatedRunner<Worker, Buffer, CheckedPdf> {
  constructor(private readonly options: PdfCheckerOptions = {}) {
    super({
      name: "The PDF check's worker",
      timeLimitMs: options.timeLimitMs ?? 30_000,
      refusal: uncheckable,
      log: options.log,
    });
  }

  /**
   * Checks the file as `checkPdf` does, refusing it with the same errors. The buffer is
   * transferred to the worker: use the `bytes` that come back.
   */
  check(bytes: Buffer): Promise<CheckedPdf> {
    return this.enqueue(bytes);
  }

  protected dispatch(worker: Worker, bytes: Buffer): void {
    const own = ownsMemory(bytes) ? bytes : new Uint8Array(bytes);
    worker.postMessage(own, [own.buffer as ArrayBuffer]);
  }

  protected start(): Worker {
    const resourceLimits = { maxOldGenerationSizeMb: this.options.maxHeapMb ?? 512 };
    // Under tsx or vitest this module is TypeScript, and so is the worker: tsx's loader is
    // registered inside the thread first (a worker inherits no loader hooks).
    const worker = import.meta.url.endsWith('.ts')
      ? new Worker(
          `import(${JSON.stringify(tsxApi())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./pdf-worker.ts', import.meta.url).href)}); });`,
          { eval: true, resourceLimits },
        )
      : new Worker(new URL('./pdf-worker.js', import.meta.url), { resourceLimits });
    this.idle(worker);
    // One file at a time: the answer is the current job's.
    worker.on('message', (reply: PdfCheckReply) => {
      if ('pages' in reply) {
        const bytes = Buffer.from(reply.bytes.buffer, reply.bytes.byteOffset, reply.bytes.length);
        this.answer(worker, undefined, { value: { pages: reply.pages, bytes } });
      } else if ('refused' in reply) {
        const error = new AppError(reply.refused.code, reply.refused.title);
        this.answer(worker, undefined, { error });
      } else {
        const error = new Error(`The PDF check failed: ${reply.failed}`);
        this.answer(worker, undefined, { error });
      }
    });
    worker.on('error', (err) => this.lost(worker, err.message));
    worker.on('exit', (code) => this.lost(worker, `exit code ${code}`));
    return worker;
  }

  protected async stop(worker: Worker): Promise<void> {
    await worker.terminate();
  }

  /** A worker waiting for work must not keep the process alive. */
  protected idle(worker: Worker): void {
    worker.unref();
  }
}

// From this file where the runtime can say (tsx), else from the working directory (vitest).
const tsxApi = () =>
  typeof import.meta.resolve === 'function' ? import.meta.resolve('tsx/esm/api') : 'tsx/esm/api';

/**
 * Whether the buffer has an ArrayBuffer of its own, to transfer as it is. A small one
 * lives inside Node's shared pool and is copied instead, so the pool stays here.
 */
const ownsMemory = (bytes: Buffer) =>
  bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
