import { existsSync } from 'node:fs';

/** Runs once before the suite: says which stores the run covers, so a skipped tier is never silent. */
export default function setup(): void {
  const db = process.env.TEST_DATABASE_URL ?? 'sqlite (temporary files)';
  const redis = process.env.TEST_REDIS_URL ?? 'not configured (Redis tests are skipped)';
  process.stdout.write(`carechat tests: store ${db.replace(/\/\/[^@]*@/, '//')}; redis ${redis}\n`);
  if (!existsSync('dist/web/index.html')) {
    process.stdout.write(
      'note: dist/web is not built; browser tests build it first (npm run build)\n',
    );
  }
}
