import { createHash } from 'node:crypto';
import sharp from 'sharp';

/**
 * A friendly geometric avatar drawn from a name, made locally (no network, no fonts):
 * a 5×5 mirrored pattern on a soft background, as a 128 px WebP.
 */
export async function generateAvatar(seed: string): Promise<Buffer> {
  const h = createHash('sha256').update(seed).digest();
  const hue = (h[0]! * 360) / 256;
  const fg = `hsl(${hue.toFixed(0)}, 55%, 42%)`;
  const bg = `hsl(${((hue + 30) % 360).toFixed(0)}, 60%, 92%)`;
  const cells: string[] = [];
  for (let y = 0; y < 5; y++) {
    for (let x = 0; x < 3; x++) {
      if ((h[1 + y * 3 + x]! & 1) === 0) continue;
      for (const cx of new Set([x, 4 - x]))
        cells.push(
          `<rect x="${14 + cx * 20}" y="${14 + y * 20}" width="20" height="20" fill="${fg}"/>`,
        );
    }
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128"><rect width="128" height="128" fill="${bg}"/>${cells.join('')}</svg>`;
  return sharp(Buffer.from(svg)).webp({ quality: 80 }).toBuffer();
}
