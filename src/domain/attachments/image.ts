import sharp from 'sharp';
import { AppError } from '../errors.js';

/** An image as it will be stored: freshly encoded, upright, without any metadata. */
export interface ProcessedImage {
  bytes: Buffer;
  contentType: 'image/jpeg' | 'image/png' | 'image/webp' | 'image/gif';
  extension: string;
  width: number;
  height: number;
  thumbnail: Buffer;
}

export type InputMime = 'image/jpeg' | 'image/png' | 'image/webp' | 'image/gif' | 'image/heic';

/** Decoded pixels beyond this are a decompression bomb, not a photo (a 48 MP phone photo is well below). */
export const MAX_PIXELS = 60_000_000;
const THUMBNAIL_EDGE = 320;

const tooLarge = () =>
  new AppError('image_too_large', 'The image has too many pixels. Send a smaller picture.');
const unreadable = () =>
  new AppError('file_unreadable', 'The image could not be read. It may be damaged.');
const heicUnsupported = () =>
  new AppError(
    'unsupported_media_type',
    'HEIC photos cannot be converted here. On an iPhone choose Settings › Camera › Formats › Most Compatible, or share the photo as JPEG, and send it again.',
  );

// sharp's operation cache is off: each upload is decoded once. How many images run at
// once, and at what priority, is the encoder's business (image-encoder.ts): this module
// runs inside its child process.
sharp.cache(false);

/**
 * Re-encodes with sharp: the pixel count is checked from the header before anything is
 * decoded, the EXIF orientation is applied, and nothing of the original's metadata
 * (EXIF, GPS, XMP, IPTC, ICC) is carried over, since sharp writes none unless asked.
 * Colour is converted to sRGB. HEIC becomes JPEG.
 */
export async function processImage(input: Buffer, mime: InputMime): Promise<ProcessedImage> {
  const animated = mime === 'image/gif' || mime === 'image/webp';
  const options = { limitInputPixels: MAX_PIXELS, animated, failOn: 'error' as const };
  let meta: sharp.Metadata;
  try {
    meta = await sharp(input, options).metadata();
  } catch (err) {
    if (mime === 'image/heic') throw heicUnsupported();
    throw mapSharpError(err);
  }
  const frames = meta.pages ?? 1;
  const frameHeight = meta.pageHeight ?? meta.height ?? 0;
  if (!meta.width || !frameHeight) throw unreadable();
  if (meta.width * frameHeight * frames > MAX_PIXELS) throw tooLarge();

  const out = outputFor(mime);
  let bytes: Buffer;
  let info: sharp.OutputInfo;
  try {
    const pipeline = sharp(input, options).rotate();
    ({ data: bytes, info } = await encode(pipeline, out.contentType).toBuffer({
      resolveWithObject: true,
    }));
  } catch (err) {
    if (mime === 'image/heic') throw heicUnsupported();
    throw mapSharpError(err);
  }
  const thumbnail = await sharp(bytes, { limitInputPixels: MAX_PIXELS })
    .resize(THUMBNAIL_EDGE, THUMBNAIL_EDGE, { fit: 'inside', withoutEnlargement: true })
    .webp({ quality: 75 })
    .toBuffer();
  return {
    bytes,
    contentType: out.contentType,
    extension: out.extension,
    width: info.width,
    height: info.pageHeight ?? info.height,
    thumbnail,
  };
}

function outputFor(mime: InputMime): {
  contentType: ProcessedImage['contentType'];
  extension: string;
} {
  switch (mime) {
    case 'image/jpeg':
    case 'image/heic':
      return { contentType: 'image/jpeg', extension: 'jpg' };
    case 'image/png':
      return { contentType: 'image/png', extension: 'png' };
    case 'image/webp':
      return { contentType: 'image/webp', extension: 'webp' };
    case 'image/gif':
      return { contentType: 'image/gif', extension: 'gif' };
  }
}

function encode(pipeline: sharp.Sharp, contentType: ProcessedImage['contentType']): sharp.Sharp {
  switch (contentType) {
    // libjpeg-turbo at quality 90 rather than mozjpeg: mozjpeg's trellis search made a
    // 6.5 MB phone photo take 11-13 s of one core (0.6 s now) for files a few percent smaller.
    case 'image/jpeg':
      return pipeline.jpeg({ quality: 90, optimiseCoding: true });
    // zlib's default level: level 9 costs several times the time for a percent or two.
    case 'image/png':
      return pipeline.png({ compressionLevel: 6 });
    case 'image/webp':
      return pipeline.webp({ quality: 90 });
    case 'image/gif':
      return pipeline.gif();
  }
}

function mapSharpError(err: unknown): AppError {
  const message = err instanceof Error ? err.message : '';
  if (/pixel limit/i.test(message)) return tooLarge();
  // sharp's own words (about the format, never the picture) reach the log with the refusal.
  const refused = unreadable();
  refused.cause = err;
  return refused;
}
