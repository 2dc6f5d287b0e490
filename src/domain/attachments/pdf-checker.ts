import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { AppError } from '../errors.js';
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

interface Job {
  bytes: Buffer;
  resolve: (checked: CheckedPdf) => void;
  reject: (err: unknown) => void;
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
 * file at a time: checks never take more than one core from the sockets, and a file
 * that crashes the worker, exhausts its heap or runs past the time limit is refused
 * alone, answered with `file_unreadable`; the next file gets a new worker.
 */
export class PdfChecker {
  private worker: Worker | undefined;
  private current: (Job & { timer: NodeJS.Timeout }) | undefined;
  private readonly queue: Job[] = [];
  private closed = false;

  constructor(private readonly options: PdfCheckerOptions = {}) {}

  /**
   * Checks the file as `checkPdf` does, refusing it with the same errors. The buffer is
   * transferred to the worker: use the `bytes` that come back.
   */
  check(bytes: Buffer): Promise<CheckedPdf> {
    if (this.closed) return Promise.reject(new Error('The PDF checker is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ bytes, resolve, reject });
      this.next();
    });
  }

  /** Stops the worker; checks still waiting fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(new Error('The PDF checker is closed'));
    this.settle((job) => job.reject(new Error('The PDF checker is closed')));
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private next(): void {
    if (this.current || this.closed) return;
    const job = this.queue.shift();
    if (!job) return;
    const worker = (this.worker ??= this.start());
    const timer = setTimeout(() => {
      this.options.log?.warn('A PDF check ran past its time limit; its worker was stopped');
      this.settle((j) => j.reject(uncheckable()));
      this.discard(worker);
    }, this.options.timeLimitMs ?? 30_000);
    this.current = { ...job, timer };
    const own = ownsMemory(job.bytes) ? job.bytes : new Uint8Array(job.bytes);
    worker.postMessage(own, [own.buffer as ArrayBuffer]);
  }

  private start(): Worker {
    const resourceLimits = { maxOldGenerationSizeMb: this.options.maxHeapMb ?? 512 };
    // Under tsx or vitest this module is TypeScript, and so is the worker: tsx's loader is
    // registered inside the thread first (a worker inherits no loader hooks).
    const worker = import.meta.url.endsWith('.ts')
      ? new Worker(
          `import(${JSON.stringify(tsxApi())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./pdf-worker.ts', import.meta.url).href)}); });`,
          { eval: true, resourceLimits },
        )
      : new Worker(new URL('./pdf-worker.js', import.meta.url), { resourceLimits });
    // A worker waiting for work must not keep the process alive.
    worker.unref();
    worker.on('message', (reply: PdfCheckReply) => {
      // A late answer from a worker already given up on belongs to no one.
      if (this.worker !== worker) return;
      if ('pages' in reply) {
        const bytes = Buffer.from(reply.bytes.buffer, reply.bytes.byteOffset, reply.bytes.length);
        this.settle((job) => job.resolve({ pages: reply.pages, bytes }));
      } else if ('refused' in reply) {
        this.settle((job) => job.reject(new AppError(reply.refused.code, reply.refused.title)));
      } else {
        this.settle((job) => job.reject(new Error(`The PDF check failed: ${reply.failed}`)));
      }
      this.next();
    });
    const lost = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      if (this.current) this.options.log?.warn(`The PDF check's worker stopped: ${why}`);
      this.settle((job) => job.reject(uncheckable()));
      this.next();
    };
    worker.on('error', (err) => lost(err.message));
    worker.on('exit', (code) => lost(`exit code ${code}`));
    return worker;
  }

  private settle(answer: (job: Job) => void): void {
    const job = this.current;
    if (!job) return;
    this.current = undefined;
    clearTimeout(job.timer);
    answer(job);
  }

  /** A worker stopped on purpose: forgotten at once, so the next file gets a new one. */
  private discard(worker: Worker): void {
    if (this.worker === worker) this.worker = undefined;
    void worker.terminate();
    this.next();
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
