import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import sharp from 'sharp';
import type { TestApp, TestClient } from './app.js';

/** A multipart/form-data body with one part named `file`, as a browser builds it. */
export function multipart(
  name: string,
  contentType: string,
  bytes: Buffer,
  field = 'file',
): { body: Buffer; contentType: string; head: Buffer; boundary: string } {
  const boundary = `----carechat${Math.random().toString(16).slice(2)}`;
  // filename* (RFC 5987) carries any character, as browsers send names that need it.
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename*=UTF-8''${encodeURIComponent(name)}\r\nContent-Type: ${contentType}\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  return {
    body: Buffer.concat([head, bytes, tail]),
    contentType: `multipart/form-data; boundary=${boundary}`,
    head,
    boundary,
  };
}

export function upload(
  t: TestApp,
  client: TestClient,
  roomId: string,
  name: string,
  contentType: string,
  bytes: Buffer,
): Promise<LightMyRequestResponse> {
  const form = multipart(name, contentType, bytes);
  return t.app.inject({
    method: 'POST',
    url: `/api/rooms/${roomId}/attachments`,
    headers: {
      cookie: client.cookie,
      'x-csrf-token': client.csrfToken,
      origin: t.services.config.publicOrigin,
      'content-type': form.contentType,
    },
    payload: form.body,
  });
}

/** A small photo with real pixels, optionally carrying EXIF (GPS included) and an orientation. */
export async function photo(
  opts: { width?: number; height?: number; gps?: boolean; orientation?: number } = {},
): Promise<Buffer> {
  const width = opts.width ?? 64;
  const height = opts.height ?? 48;
  const raw = Buffer.alloc(width * height * 3);
  for (let i = 0; i < raw.length; i += 3) {
    raw[i] = (i / 3) % width < width / 2 ? 220 : 20;
    raw[i + 1] = 90;
    raw[i + 2] = Math.floor(i / 3 / width) < height / 2 ? 30 : 200;
  }
  let img = sharp(raw, { raw: { width, height, channels: 3 } });
  if (opts.gps) {
    img = img.withExif({
      IFD0: { Make: 'CareCam', Model: 'Test 1', Copyright: 'Patient' },
      IFD3: {
        GPSLatitudeRef: 'N',
        GPSLatitude: '51/1 30/1 0/1',
        GPSLongitudeRef: 'W',
        GPSLongitude: '0/1 7/1 0/1',
      },
    });
  }
  let out = await img.jpeg({ quality: 90 }).toBuffer();
  if (opts.orientation) {
    out = await sharp(out).withMetadata({ orientation: opts.orientation }).jpeg().toBuffer();
    if (opts.gps) {
      out = await sharp(out)
        .withMetadata({ orientation: opts.orientation })
        .withExif({
          IFD3: {
            GPSLatitudeRef: 'N',
            GPSLatitude: '51/1 30/1 0/1',
            GPSLongitudeRef: 'W',
            GPSLongitude: '0/1 7/1 0/1',
          },
        })
        .jpeg()
        .toBuffer();
    }
  }
  return out;
}

/** Sends the uploads in a message, which is what makes them visible to the other participant. */
export async function sendWith(
  client: TestClient,
  roomId: string,
  attachmentIds: string[],
): Promise<void> {
  const res = await client.post(`/api/rooms/${roomId}/messages`, {
    clientId: randomUUID(),
    body: '',
    attachmentIds,
  });
  if (res.statusCode !== 201) throw new Error(`send failed: ${res.statusCode} ${res.body}`);
}
