/**
 * The image encoder's child process (started by image-encoder.ts): it lowers its own
 * priority before sharp is loaded, so that every thread libvips starts inherits it, then
 * re-encodes one image at a time as they arrive over the IPC channel.
 */
import { AppError } from '../errors.js';
import type { InputMime, ProcessedImage } from './image.js';
import { lowerPriority } from './priority.js';

export interface ImageJob {
  id: number;
  bytes: Uint8Array;
  mime: InputMime;
}

export type ImageReply = { id: number } & (
  | { image: ProcessedImage }
  | { refused: { code: AppError['code']; title: string; cause?: string } }
  | { failed: string }
);

if (!process.send)
  throw new Error('image-worker.ts runs as a child process (see image-encoder.ts)');
lowerPriority(Number(process.env.CARECHAT_IMAGE_NICE ?? 19), 'process');
const { processImage } = await import('./image.js');
const send = process.send.bind(process);

process.on('message', (job: ImageJob) => {
  const input = Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength);
  processImage(input, job.mime).then(
    (image) => send({ id: job.id, image } satisfies ImageReply),
    (err: unknown) => {
      const reply: ImageReply =
        err instanceof AppError
          ? {
              id: job.id,
              refused: {
                code: err.code,
                title: err.title,
                ...(err.cause instanceof Error ? { cause: err.cause.message } : {}),
              },
            }
          : { id: job.id, failed: err instanceof Error ? err.message : String(err) };
      send(reply);
    },
  );
});
// The parent gone (killed, crashed): nothing is left to answer.
process.on('disconnect', () => process.exit(0));
