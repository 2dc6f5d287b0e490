// Writes the web app manifest's PNG icons from the favicon, once; the PNGs are committed.
// Run again after changing src/web/public/favicon.svg: node scripts/make-icons.mjs
import { readFileSync } from 'node:fs';
import sharp from 'sharp';

const dir = new URL('../src/web/public/', import.meta.url);
const svg = readFileSync(new URL('favicon.svg', dir));
const brand = '#0b5cad';

for (const size of [192, 512]) {
  await sharp(svg, { density: (72 * size) / 32 })
    .resize(size, size)
    .png()
    .toFile(new URL(`icons/icon-${size}.png`, dir).pathname);
}

// A maskable icon is cropped to a circle or squircle by the launcher: the mark sits in the
// middle 80% (the safe zone) on a full-bleed background of the brand colour.
const inner = Math.round(512 * 0.7);
const mark = await sharp(svg, { density: (72 * inner) / 32 })
  .resize(inner, inner)
  .png()
  .toBuffer();
await sharp({ create: { width: 512, height: 512, channels: 4, background: brand } })
  .composite([{ input: mark, gravity: 'center' }])
  .png()
  .toFile(new URL('icons/icon-maskable-512.png', dir).pathname);
