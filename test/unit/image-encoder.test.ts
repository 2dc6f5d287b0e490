import { readdirSync, readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/domain/errors.js';
import { ImageEncoder } from '../../src/domain/attachments/image-encoder.js';
import { processImage } from '../../src/domain/attachments/image.js';

const photo = (colour: string, width = 64, height = 48) =>
  sharp({ create: { width, height, channels: 3, background: colour } })
    .jpeg()
    .toBuffer();

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (err: unknown) => (err instanceof AppError ? { code: err.code, title: err.title } : err),
  );

/** The distinct `nice` values of a process's threads, from /proc (Linux: field 19 of stat). */
const threadNices = (pid: number) => {
  const nices = readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
  return [...new Set(nices)];
};

describe('the image encoder (child process)', () => {
  const encoder = new ImageEncoder();
  afterAll(() => encoder.close());

  it('re-encodes exactly as processImage does, in a child at the lowest priority', async () => {
    const original = await photo('#c00', 120, 80);
    const here = await processImage(Buffer.from(original), 'image/jpeg');
    const there = await encoder.encode(original, 'image/jpeg');
    expect(Buffer.isBuffer(there.bytes) && Buffer.isBuffer(there.thumbnail)).toBe(true);
    expect({ ...there, bytes: undefined, thumbnail: undefined }).toEqual({
      ...here,
      bytes: undefined,
      thumbnail: undefined,
    });
    expect(there.bytes.equals(here.bytes)).toBe(true);
    expect(there.thumbnail.equals(here.thumbnail)).toBe(true);
    const pid = encoder.pid!;
    expect(pid).not.toBe(process.pid);
    expect(getPriority(pid)).toBe(19);
    if (process.platform === 'linux') expect(threadNices(pid)).toEqual([19]);
  });

  it('answers each image in the order it arrived, and a damaged one holds up none after it', async () => {
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
    const first = track('red', encoder.encode(red, 'image/jpeg'));
    const damaged = track('damaged', encoder.encode(Buffer.from('not a jpeg'), 'image/jpeg'));
    const last = track('blue', encoder.encode(blue, 'image/jpeg'));
    await expect(damaged).rejects.toMatchObject({ code: 'file_unreadable' });
    const [a, b] = await Promise.all([first, last]);
    expect(finished).toEqual(['red', 'damaged', 'blue']);
    expect([a.width, a.height, b.width, b.height]).toEqual([64, 48, 64, 48]);
  });

  it('a child that dies or runs past the time limit refuses that image alone; the next gets a new child', async () => {
    const original = await photo('#0c0');
    const waiting = encoder.encode(original, 'image/jpeg');
    const next = encoder.encode(original, 'image/jpeg');
    const pid = encoder.pid!;
    process.kill(pid, 'SIGKILL');
    expect(await refusal(waiting)).toMatchObject({ code: 'file_unreadable' });
    expect((await next).width).toBe(64);
    expect(encoder.pid).not.toBe(pid);

    const impatient = new ImageEncoder({ timeLimitMs: 0 });
    try {
      expect(await refusal(impatient.encode(original, 'image/jpeg'))).toMatchObject({
        code: 'file_unreadable',
      });
    } finally {
      await impatient.close();
    }
  });
});
