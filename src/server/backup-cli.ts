import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { BackupError, backupSqlite, restoreSqlite, type BackupSummary } from '../store/backup.js';
import { ConfigError, loadConfig } from './config.js';

/**
 * Online backup and restore of an SQLite store (the one DATABASE_URL names):
 *
 *   npm run backup -- --to /backups/carechat-2026-12-01.db      while the server runs
 *   npm run restore -- --from /backups/carechat-2026-12-01.db   into an empty store, server stopped
 *
 * PostgreSQL stores are backed up with pg_dump and WAL archiving (docs/DEPLOY.md).
 */

const USAGE = [
  'usage: npm run backup -- --to FILE [--force]',
  '       npm run restore -- --from FILE [--force]',
].join('\n');

const argsSchema = z.discriminatedUnion('command', [
  z.object({
    command: z.literal('backup'),
    to: z.string({ error: '--to FILE is required' }).min(1, '--to FILE is required'),
    force: z.boolean().default(false),
  }),
  z.object({
    command: z.literal('restore'),
    from: z.string({ error: '--from FILE is required' }).min(1, '--from FILE is required'),
    force: z.boolean().default(false),
  }),
]);

const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

function describe(s: BackupSummary): string {
  return `${s.users} users, ${s.messages} messages, ${s.files} files, ${mib(s.bytes)}, schema at ${s.migrations.at(-1) ?? 'none'}`;
}

async function runBackupCli(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
): Promise<string> {
  let values: Record<string, unknown>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        to: { type: 'string' },
        from: { type: 'string' },
        force: { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw new BackupError(`${(err as Error).message}\n${USAGE}`);
  }
  const parsed = argsSchema.safeParse({ command: positionals[0], ...values });
  if (!parsed.success) throw new BackupError(`${parsed.error.issues[0]!.message}\n${USAGE}`);
  const storeUrl = loadConfig(env).databaseUrl;
  // npm runs scripts from the package root; a file name is meant from where it was typed.
  const typed = (file: string) => resolve(env.INIT_CWD ?? process.cwd(), file);
  const args = parsed.data;
  switch (args.command) {
    case 'backup': {
      const s = await backupSqlite(storeUrl, typed(args.to), { force: args.force });
      return `Backed up ${storeUrl} to ${s.file}: ${describe(s)}`;
    }
    case 'restore': {
      const from = typed(args.from);
      const s = await restoreSqlite(from, storeUrl, { force: args.force });
      return `Restored ${from} into ${s.file}: ${describe(s)}. Start carechat as usual; it migrates the store if the backup is older.`;
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runBackupCli(process.argv.slice(2)).then(
    (line) => process.stdout.write(`${line}\n`),
    (err: unknown) => {
      const known = err instanceof BackupError || err instanceof ConfigError;
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`${known ? '' : 'backup failed: '}${message}\n`);
      process.exitCode = 1;
    },
  );
}
