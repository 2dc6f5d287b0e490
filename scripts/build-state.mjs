import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The two halves of `npm run build`, each with the inputs its output is made from: the
 * server (tsc into dist/, entry dist/server/main.js) and the web app (Vite into dist/web).
 */
export const PARTS = {
  server: {
    output: 'dist/server/main.js',
    sources: [
      'src/server',
      'src/domain',
      'src/store',
      'src/bus',
      'src/shared',
      'tsconfig.json',
      'tsconfig.build.json',
    ],
  },
  web: {
    output: 'dist/web/index.html',
    sources: ['src/web', 'src/shared', 'vite.config.ts'],
  },
};

/** The newest modification time under `path` (0 when it does not exist). */
function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  let newest = s.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

/**
 * The parts whose output is missing or older than one of its sources, in build order.
 *
 * @param {string} root the checkout
 * @returns {Array<'server' | 'web'>}
 */
export function staleParts(root) {
  /** @type {Array<'server' | 'web'>} */
  const stale = [];
  for (const name of /** @type {const} */ (['server', 'web'])) {
    const part = PARTS[name];
    const output = join(root, part.output);
    const built = existsSync(output) ? statSync(output).mtimeMs : -1;
    const newest = Math.max(...part.sources.map((s) => newestMtime(join(root, s))));
    if (built < newest) stale.push(name);
  }
  return stale;
}
