import { pathToFileURL } from 'node:url';
import { MigrateDataError, migrateData, type MigrateDataOptions } from '../store/copy-data.js';

/**
 * The command line of the SQLite → PostgreSQL copy (src/store/copy-data.ts does the copy):
 *
 *   npm run migrate-data -- --from sqlite:./data/carechat.db --to postgres://…
 */

function parseArgs(argv: readonly string[]): MigrateDataOptions {
  const opts: Partial<MigrateDataOptions> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.split(/=(.*)/s, 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--from') opts.from = value();
    else if (flag === '--to') opts.to = value();
    else if (flag === '--force') opts.force = true;
    else if (flag === '--batch-size') opts.batchSize = Number(value());
    else throw new MigrateDataError(`unknown argument ${arg}`);
  }
  if (!opts.from || !opts.to) throw new MigrateDataError('both --from and --to are required');
  return opts as MigrateDataOptions;
}

const usage =
  'usage: npm run migrate-data -- --from sqlite:./data/carechat.db --to postgres://user@host/db [--force]';

async function main(): Promise<void> {
  let opts: MigrateDataOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage}\n`);
    process.exit(2);
  }
  const hide = (url: string) => url.replace(/\/\/[^@/]*@/, '//');
  process.stdout.write(`Copying ${opts.from} to ${hide(opts.to)}\n`);
  const copied = await migrateData({ ...opts, progress: (l) => process.stdout.write(`  ${l}\n`) });
  const rows = [...copied.values()].reduce((a, b) => a + b, 0);
  process.stdout.write(
    `Done: ${copied.size} tables, ${rows} rows. Start carechat with DATABASE_URL set to the PostgreSQL URL.\n`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`migrate-data failed, nothing was copied: ${message}\n`);
    process.exit(1);
  });
}
