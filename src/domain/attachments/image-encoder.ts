import { fork, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { AppError } from '../errors.js';
import type { InputMime, ProcessedImage } from './image.js';
import type { ImageJob, ImageReply } from './image-worker.js';
import { IsolatedRunner } from './isolated-runner.js';

export interface ImageEncoderOptions {
  /** An image still being encoded after this long is given up: the child is stopped. */
  timeLimitMs?: number;
  /** The child's priority (`nice`, 0–19): 19 takes only what the server leaves. */
  nice?: number;
  log?: Pick<Logger, 'warn'>;
}

interface Image {
  bytes: Buffer;
  mime: InputMime;
}

const unreadable = () =>
  new AppError('file_unreadable', 'The image could not be read. It may be damaged.');

/**
 * Photos are re-encoded (image.ts) in a child process at the lowest priority, one at a
 * time (isolated-runner.ts). A phone photo takes about a second of a core; in the server's
 * own threads (even one libvips thread, one image at a time) three people uploading held
 * other rooms' messages back, since the scheduler shared the cores evenly between the
 * event loop and libvips. At `nice` 19 the encoder gets what the server and everyone else
 * leave, which on an idle server is everything. A separate process also keeps the
 * decoders away from the server: an image that crashes or hangs libvips costs that upload
 * (`file_unreadable`) and a new child for the next one, and the child holds no secret of
 * the server's (its environment is empty but for NODE_ENV and the priority).
 */
export class ImageEncoder extends IsolatedRunner<ChildProcess, Image, ProcessedImage> {
  constructor(private readonly options: ImageEncoderOptions = {}) {
    super({
      name: "The image encoder's process",
      timeLimitMs: options.timeLimitMs ?? 60_000,
      refusal: unreadable,
      log: options.log,
    });
  }

  /** Re-encodes as `processImage` does, refusing the file with the same errors. */
  encode(bytes: Buffer, mime: InputMime): Promise<ProcessedImage> {
    return this.enqueue({ bytes, mime });
  }

  /** The child's process id while one runs (for tests and diagnostics). */
  get pid(): number | undefined {
    return this.running?.pid;
  }

  protected dispatch(child: ChildProcess, image: Image, id: number): void {
    // Busy: the child keeps the process alive until it answers.
    child.ref();
    child.channel?.ref();
    child.send({ id, bytes: image.bytes, mime: image.mime } satisfies ImageJob);
  }

  protected start(): ChildProcess {
    const typescript = import.meta.url.endsWith('.ts');
    const child = fork(new URL(`./image-worker.${typescript ? 'ts' : 'js'}`, import.meta.url), {
      // Under tsx or vitest the worker is TypeScript too. Nothing else of this process's
      // flags (a CPU profile, an inspector) is wanted there.
      execArgv: typescript ? ['--import', tsxLoader()] : [],
      env: {
        NODE_ENV: process.env.NODE_ENV ?? 'production',
        CARECHAT_IMAGE_NICE: String(this.options.nice ?? 19),
      },
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
    });
    child.on('message', (reply: ImageReply) => {
      if ('image' in reply) {
        const { image } = reply;
        const value = {
          ...image,
          bytes: asBuffer(image.bytes),
          thumbnail: asBuffer(image.thumbnail),
        };
        this.answer(child, reply.id, { value });
      } else if ('refused' in reply) {
        const error = new AppError(reply.refused.code, reply.refused.title);
        // sharp's own words (about the format, never the picture) reach the log.
        if (reply.refused.cause) error.cause = new Error(reply.refused.cause);
        this.answer(child, reply.id, { error });
      } else {
        this.answer(child, reply.id, { error: new Error(`Re-encoding failed: ${reply.failed}`) });
      }
    });
    child.on('error', (err) => this.lost(child, err.message));
    child.on('exit', (code, signal) =>
      this.lost(child, signal ? `signal ${signal}` : `exit code ${code}`),
    );
    return child;
  }

  protected stop(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  /** Waiting for work, the child must not keep the process alive. */
  protected idle(child: ChildProcess): void {
    child.unref();
    child.channel?.unref();
  }
}

const asBuffer = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

// tsx's loader, found from this file where the runtime can say (tsx), else from the
// working directory (vitest).
const tsxLoader = () =>
  typeof import.meta.resolve === 'function' ? import.meta.resolve('tsx') : 'tsx';
