/**
 * Large, valid files for the uploads scenario: a noisy photo (JPEG) and a PDF carrying it,
 * each close to the upload limit, and a loop that uploads one after another as a client
 * would (multipart over HTTP, the session's cookie and CSRF token).
 */
import { randomBytes } from 'node:crypto';
import { PDFDocument } from 'pdf-lib';
import sharp from 'sharp';
import type { BenchUser } from './protocol.js';

/** Noise does not compress: a JPEG of about `bytes`, found by growing the picture. */
async function noisyJpeg(bytes: number): Promise<Buffer> {
  let side = Math.round(Math.sqrt(bytes / 2.5));
  for (let i = 0; i < 8; i++) {
    const raw = randomBytes(side * side * 3);
    const jpeg = await sharp(raw, { raw: { width: side, height: side, channels: 3 } })
      .jpeg({ quality: 90 })
      .toBuffer();
    if (jpeg.length <= bytes && jpeg.length > bytes * 0.9) return jpeg;
    side = Math.floor(side * Math.sqrt((bytes * 0.95) / jpeg.length));
  }
  throw new Error(`could not make a JPEG of about ${bytes} bytes`);
}

export interface UploadFile {
  name: string;
  type: string;
  bytes: Buffer;
}

/** A photo and a one-page PDF holding a photo, each just under `limit` bytes. */
export async function uploadFiles(limit: number): Promise<UploadFile[]> {
  const photo = await noisyJpeg(limit - 64 * 1024);
  const doc = await PDFDocument.create();
  const image = await doc.embedJpg(await noisyJpeg(limit - 256 * 1024));
  doc.addPage([image.width, image.height]).drawImage(image, { x: 0, y: 0 });
  const pdf = Buffer.from(await doc.save());
  return [
    { name: 'rash.jpg', type: 'image/jpeg', bytes: photo },
    { name: 'lab-report.pdf', type: 'application/pdf', bytes: pdf },
  ];
}

function multipart(file: UploadFile): { body: Blob; contentType: string } {
  const boundary = `----carechatbench${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.name}"\r\nContent-Type: ${file.type}\r\n\r\n`,
  );
  return {
    body: new Blob(
      [head, file.bytes, Buffer.from(`\r\n--${boundary}--\r\n`)].map((b) => new Uint8Array(b)),
    ),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}

export interface UploadStats {
  uploads: number;
  /** Uploads still in flight when the measured window ended, cut off by the harness. */
  aborted: number;
  bytes: number;
  statuses: Record<string, number>;
  ms: number[];
}

/**
 * Uploads `files` in turn to the room until `stopped()` says so, one upload at a time; an
 * upload still in flight when `signal` aborts is cut off (as a user cancelling would).
 */
export async function uploadLoop(
  origin: string,
  user: BenchUser,
  roomId: string,
  files: readonly UploadFile[],
  stopped: () => boolean,
  signal: AbortSignal,
  stats: UploadStats,
): Promise<void> {
  // Built once: a browser sends the same bytes however often, and so does this loop.
  const forms = files.map(multipart);
  for (let i = 0; !stopped(); i++) {
    const file = files[i % files.length]!;
    const form = forms[i % forms.length]!;
    const t = performance.now();
    const status = await fetch(`${origin}/api/rooms/${roomId}/attachments`, {
      method: 'POST',
      headers: {
        cookie: `carechat_session=${user.token}`,
        'x-csrf-token': user.csrf,
        origin,
        'content-type': form.contentType,
      },
      body: form.body,
      signal,
    }).then(
      async (r) => {
        await r.arrayBuffer();
        return String(r.status);
      },
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
    if (signal.aborted) {
      stats.aborted++;
      return;
    }
    stats.ms.push(performance.now() - t);
    stats.statuses[status] = (stats.statuses[status] ?? 0) + 1;
    if (status === '201') {
      stats.uploads++;
      stats.bytes += file.bytes.length;
    }
  }
}
