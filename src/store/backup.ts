import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { migrationProvider } from './migrations/index.js';

/** Something the operator can fix: said in one line, nothing changed. */
export class BackupError extends Error {}

export interface BackupSummary {
  file: string;
  bytes: number;
  /** The schema the copy is at: the migrations recorded in it, in order. */
  migrations: string[];
  users: number;
  messages: number;
  /** Profile photos and attachments: they live in the store, so they are in the copy. */
  files: number;
}

// More pages than any store has: the whole copy in one step (see backupSqlite).
const ALL_PAGES = 0x7fffffff;

function sqlitePath(storeUrl: string): string {
  if (!storeUrl.startsWith('sqlite:'))
    throw new BackupError(
      'this store is PostgreSQL: back it up with pg_dump and point-in-time recovery (docs/DEPLOY.md)',
    );
  return resolve(storeUrl.slice('sqlite:'.length));
}

/**
 * Copies a running SQLite store to `to` with SQLite's online backup API, while the server
 * keeps committing. The copy is made in ONE step: a step holds a read transaction, so it
 * is the store as of one moment, with every transaction committed before it began (WAL
 * readers do not block the server's writers). Copied in small steps instead, each commit
 * by the server between two steps would restart the copy, and a busy practice could keep
 * it from ever finishing. The copy is checked, made a single self-contained file readable
 * only by its owner (it holds health information), and only then takes the name `to`.
 */
export async function backupSqlite(
  storeUrl: string,
  to: string,
  opts: { force?: boolean } = {},
): Promise<BackupSummary> {
  const path = sqlitePath(storeUrl);
  const target = resolve(to);
  if (!existsSync(path)) throw new BackupError(`there is no store at ${path}`);
  if (target === path) throw new BackupError('the backup cannot be the store itself');
  if (existsSync(target) && !opts.force)
    throw new BackupError(`${target} already exists; choose another name or pass --force`);
  if (!existsSync(dirname(target)))
    throw new BackupError(`the directory ${dirname(target)} does not exist`);
  const partial = `${target}.partial`;
  rmSync(partial, { force: true });
  const source = new SqliteDatabase(path, { fileMustExist: true, timeout: 5000 });
  try {
    await source.backup(partial, { progress: () => ALL_PAGES });
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  } finally {
    source.close();
  }
  try {
    chmodSync(partial, 0o600);
    const copy = new SqliteDatabase(partial, { fileMustExist: true });
    try {
      // The store runs in WAL mode; the backup is one file, with nothing beside it.
      copy.pragma('journal_mode = DELETE');
      checkIntegrity(copy, 'the copy');
    } finally {
      copy.close();
    }
    const summary = summarize(partial);
    renameSync(partial, target);
    return { ...summary, file: target };
  } catch (err) {
    rmSync(partial, { force: true });
    throw err;
  }
}

/**
 * Restores a backup made by `backupSqlite` into the store at `storeUrl`. Refuses a
 * damaged backup, one from a newer carechat (a migration this code does not know), a
 * store that is open (a running server), and a store that holds data unless `force`.
 * The backup is copied beside the store and renamed over it, so the store is either the
 * old one or the whole backup, never half of each.
 */
export async function restoreSqlite(
  from: string,
  storeUrl: string,
  opts: { force?: boolean } = {},
): Promise<BackupSummary> {
  const path = sqlitePath(storeUrl);
  const backupFile = resolve(from);
  if (!existsSync(backupFile)) throw new BackupError(`there is no backup at ${backupFile}`);
  if (backupFile === path) throw new BackupError('the backup cannot be the store itself');
  const source = openBackup(backupFile);
  try {
    checkIntegrity(source, backupFile);
    const known = new Set(Object.keys(await migrationProvider('sqlite').getMigrations()));
    const unknown = migrationsOf(source, backupFile).filter((m) => !known.has(m));
    if (unknown.length > 0)
      throw new BackupError(
        `${backupFile} was made by a newer carechat (unknown migration ${unknown.join(', ')}); restore it with that version`,
      );
    const filled = existsSync(path) ? tablesWithRows(path) : [];
    if (filled.length > 0 && !opts.force)
      throw new BackupError(
        `the store at ${path} is not empty (${filled.join(', ')} hold rows); pass --force to replace it`,
      );
    mkdirSync(dirname(path), { recursive: true });
    const partial = `${path}.restoring`;
    rmSync(partial, { force: true });
    try {
      await source.backup(partial, { progress: () => ALL_PAGES });
      chmodSync(partial, 0o600);
      const copy = new SqliteDatabase(partial, { fileMustExist: true });
      try {
        checkIntegrity(copy, 'the restored copy');
      } finally {
        copy.close();
      }
      // What is left beside the old store belongs to it, not to the restored one.
      rmSync(`${path}-wal`, { force: true });
      rmSync(`${path}-shm`, { force: true });
      renameSync(partial, path);
    } catch (err) {
      rmSync(partial, { force: true });
      throw err;
    }
  } finally {
    source.close();
  }
  return { ...summarize(path), file: path };
}

function openBackup(file: string): SqliteDatabase.Database {
  try {
    const db = new SqliteDatabase(file, { readonly: true, fileMustExist: true });
    db.pragma('schema_version');
    return db;
  } catch (err) {
    throw new BackupError(`${file} is not an SQLite backup (${(err as Error).message})`);
  }
}

function checkIntegrity(db: SqliteDatabase.Database, what: string): void {
  let result: unknown;
  try {
    result = db.pragma('integrity_check', { simple: true });
  } catch (err) {
    throw new BackupError(`${what} is damaged (${(err as Error).message})`);
  }
  if (result !== 'ok') throw new BackupError(`${what} is damaged (${String(result)})`);
}

function migrationsOf(db: SqliteDatabase.Database, what: string): string[] {
  try {
    return db
      .prepare<[], { name: string }>('select name from kysely_migration order by name')
      .all()
      .map((r) => r.name);
  } catch {
    throw new BackupError(`${what} is not a carechat backup (it records no migrations)`);
  }
}

/**
 * The tables of the store at `path` that hold rows. Opening it in exclusive locking mode
 * fails while any other connection has it open, which is how a running server is found.
 */
function tablesWithRows(path: string): string[] {
  let db: SqliteDatabase.Database;
  try {
    db = new SqliteDatabase(path, { fileMustExist: true, timeout: 0 });
  } catch (err) {
    throw new BackupError(`cannot open the store at ${path} (${(err as Error).message})`);
  }
  try {
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      db.exec('BEGIN EXCLUSIVE');
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_BUSY')
        throw new BackupError(`the store at ${path} is in use: stop carechat before restoring`);
      throw new BackupError(`cannot open the store at ${path} (${(err as Error).message})`);
    }
    const tables = db
      .prepare<[], { name: string }>(
        "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'kysely_%' order by name",
      )
      .all()
      .map((r) => r.name);
    const filled = tables.filter(
      (t) => db.prepare(`select 1 from "${t.replaceAll('"', '""')}" limit 1`).get() !== undefined,
    );
    db.exec('COMMIT');
    return filled;
  } finally {
    db.close();
  }
}

function summarize(file: string): Omit<BackupSummary, 'file'> {
  const db = new SqliteDatabase(file, { readonly: true, fileMustExist: true });
  try {
    const count = (table: string): number =>
      db.prepare<[], { n: number }>(`select count(*) as n from ${table}`).get()!.n;
    return {
      bytes: statSync(file).size,
      migrations: migrationsOf(db, file),
      users: count('users'),
      messages: count('messages'),
      files: count('files'),
    };
  } finally {
    db.close();
  }
}
