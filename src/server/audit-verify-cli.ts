import { readFileSync } from 'node:fs';
import { loadCheckpointSigner, checkpointSchema } from '../domain/audit/checkpoint.js';
import { verifyChain, type ChainVerdict } from '../domain/audit/verify.js';
import { migrateToLatest, openDatabase } from '../store/database.js';
import { Store } from '../store/store.js';
import { ConfigError, loadConfig } from './config.js';

/**
 * `npm run audit:verify [-- --checkpoint FILE]`: walks the audit chain of the store named
 * by DATABASE_URL. Exit 0: intact. Exit 1: broken, naming the first broken row. Exit 2:
 * the command could not run (bad arguments, an unreadable checkpoint, no store).
 *
 * A checkpoint file is what GET /api/admin/audit/checkpoint downloads, or the
 * `auditCheckpoint` object of an `audit chain head` log line.
 */
const usage = 'usage: npm run audit:verify [-- --checkpoint FILE]';

const explain: Record<NonNullable<ChainVerdict['problem']>, string> = {
  link: 'its prev_hash is not the hash of the row before it (a row was removed or inserted)',
  hash: 'its hash does not match what it holds (the row was changed)',
  missing: 'the checkpoint covers rows that are no longer there (rows were deleted)',
  checkpoint_mismatch: 'it differs from the row the checkpoint was signed for',
  checkpoint_signature: 'the checkpoint was not signed by this server’s key, or was altered',
};

function fail(code: number, line: string): never {
  process.stderr.write(`${line}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  let checkpointFile: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i]!.split(/=(.*)/s, 2) as [string, string | undefined];
    if (flag === '--checkpoint') checkpointFile = inline ?? args[++i];
    else fail(2, `unknown argument ${args[i]}\n${usage}`);
  }
  if (args.includes('--checkpoint') && !checkpointFile) fail(2, usage);

  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(2, err.message);
    throw err;
  }
  let checkpoint;
  if (checkpointFile) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(checkpointFile, 'utf8'));
    } catch (err) {
      fail(2, `cannot read the checkpoint ${checkpointFile}: ${(err as Error).message}`);
    }
    // A log line holds the checkpoint under auditCheckpoint; a download is the checkpoint.
    const candidate =
      raw && typeof raw === 'object' && 'auditCheckpoint' in raw ? raw.auditCheckpoint : raw;
    const parsed = checkpointSchema.safeParse(candidate);
    if (!parsed.success) fail(2, `${checkpointFile} is not an audit checkpoint`);
    checkpoint = parsed.data;
  }
  const signer = loadCheckpointSigner({
    signingKey: config.auditSigningKey,
    databaseUrl: config.databaseUrl,
  });
  const database = openDatabase(config.databaseUrl, { poolSize: 2 });
  let verdict: ChainVerdict;
  try {
    await migrateToLatest(database);
    verdict = await verifyChain(Store.from(database), {
      ...(checkpoint ? { checkpoint } : {}),
      signer,
    });
  } finally {
    await database.close();
  }
  if (!verdict.ok) {
    fail(
      1,
      `audit chain BROKEN at row ${verdict.firstBrokenId}: ${explain[verdict.problem!]} (${verdict.checked} rows verified before it)`,
    );
  }
  const head = verdict.head;
  process.stdout.write(
    `audit chain intact: ${verdict.checked} rows` +
      (head ? `, head row ${head.id} ${head.hash}` : '') +
      (checkpoint ? `; checkpoint of row ${checkpoint.headId} (${checkpoint.at}) holds` : '') +
      '\n',
  );
}

main().catch((err: unknown) =>
  fail(2, `audit:verify could not run: ${err instanceof Error ? err.message : String(err)}`),
);
