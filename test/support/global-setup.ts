import { existsSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { findBrowser } from '../e2e/find-browser.js';

const hidePassword = (url: string) => url.replace(/\/\/[^@/]*@/, '//');

/**
 * Runs once per project (tier) before its tests: says which store and bus the tier
 * covers, so a skipped tier is never silent.
 */
export default async function setup(project: TestProject): Promise<void> {
  const name = project.name || 'default';
  const redis = process.env.TEST_REDIS_URL
    ? hidePassword(process.env.TEST_REDIS_URL)
    : 'not configured (Redis tests are skipped; set TEST_REDIS_URL=redis://127.0.0.1:6379)';
  const pg = process.env.TEST_DATABASE_URL?.startsWith('postgres')
    ? hidePassword(process.env.TEST_DATABASE_URL)
    : undefined;
  // The Chromium inside @sparticuz/chromium unpacks itself into the temporary folder on
  // first use, and test files running side by side raced to do it: one launched the file
  // another was still writing (spawn ETXTBSY). The browser is found, and unpacked when it
  // is the one, here, once, before any test file starts.
  await findBrowser().catch(() => undefined);
  if (name === 'postgres') {
    process.stdout.write(
      `carechat tests [postgres]: store ${pg ?? '?'} (a schema per test); redis ${redis}\n`,
    );
    return;
  }
  process.stdout.write(
    `carechat tests [${name}]: store sqlite (temporary files); redis ${redis}\n`,
  );
  if (!pg) {
    process.stdout.write(
      'carechat tests: PostgreSQL tier skipped: TEST_DATABASE_URL is not a postgres:// URL (e.g. TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)\n',
    );
  }
  if (!existsSync('dist/web/index.html')) {
    process.stdout.write(
      'note: dist/web is not built; browser tests build it first (npm run build)\n',
    );
  }
}
