import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { processImage } from '../../src/domain/attachments/image.js';

const photo = (colour: string) =>
  sharp({ create: { width: 64, height: 48, channels: 3, background: colour } })
    .jpeg()
    .toBuffer();

describe('image re-encoding, one at a time', () => {
  it('answers each upload in the order it arrived, and a damaged image holds up none after it', async () => {
    const [red, blue] = await Promise.all([photo('#c00'), photo('#00c')]);
    const finished: string[] = [];
    const track = <T>(name: string, p: Promise<T>) =>
      p.then(
        (v) => (finished.push(name), v),
        (err: unknown) => {
          finished.push(name);
          throw err;
        },
      );
    const first = track('red', processImage(red, 'image/jpeg'));
    const damaged = track('damaged', processImage(Buffer.from('not a jpeg at all'), 'image/jpeg'));
    const last = track('blue', processImage(blue, 'image/jpeg'));
    await expect(damaged).rejects.toMatchObject({ code: 'file_unreadable' });
    const [a, b] = await Promise.all([first, last]);
    expect(finished).toEqual(['red', 'damaged', 'blue']);
    expect([a.width, a.height, b.width, b.height]).toEqual([64, 48, 64, 48]);
  });
});
