import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  sql,
  type SqliteDatabase as SqliteDialectDatabase,
} from 'kysely';
import pg from 'pg';
import { migrationProvider } from './migrations/index.js';
import { startCheckpointer } from './sqlite-checkpointer.js';
import { SqliteWriterThread } from './sqlite-writer-thread.js';
import { WorkerSqliteDialect, type TransactionPipeline } from './sqlite-worker-driver.js';
import type { DB } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Database {
  readonly db: Kysely<DB>;
  readonly dialect: Dialect;
  /** PostgreSQL: the schema named by the URL's `?schema=`, made at start when missing. */
  readonly schema?: string | undefined;
  /** SQLite with `writerThread`: the thread that holds the write connection. */
  readonly writerThread?: SqliteWriterThread;
  /** SQLite with `writerThread`: what its open transaction can ask of it (sqlite-worker-driver.ts). */
  readonly pipeline?: TransactionPipeline;
  ping(): Promise<void>;
  close(): Promise<void>;
}

// int8 (bigint) columns hold epoch milliseconds, well inside Number's safe range.
pg.types.setTypeParser(20, (v) => Number(v));

export interface OpenOptions {
  poolSize?: number;
  /** SQLite: the write connection in a worker thread (sqlite-worker-driver.ts). */
  writerThread?: boolean;
}

/** Opens the store named by a `sqlite:<path>` or `postgres://…` URL. Does not migrate. */
export function openDatabase(url: string, options: OpenOptions = {}): Database {
  if (url.startsWith('sqlite:'))
    return openSqlite(url.slice('sqlite:'.length), options.writerThread ?? false);
  return openPostgres(url, options.poolSize ?? 10);
}

/**
 * Kysely prepares every statement anew; preparing costs about as much as running a short
 * one. Statements are kept by their SQL text (least recently used out first) and reused.
 */
function withStatementCache(
  raw: SqliteDatabase.Database,
  size = 500,
): SqliteDialectDatabase & { prepare(sql: string): SqliteDatabase.Statement } {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => raw.close(),
    prepare: (sqlText: string) => {
      let stmt = cache.get(sqlText);
      if (stmt) {
        cache.delete(sqlText);
      } else {
        stmt = raw.prepare(sqlText);
        if (cache.size >= size) cache.delete(cache.keys().next().value!);
      }
      cache.set(sqlText, stmt);
      return stmt;
    },
  };
}

function openSqlite(path: string, writerThread: boolean): Database {
  if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
  const raw = new SqliteDatabase(path);
  raw.pragma('journal_mode = WAL');
  // FULL: a transaction that returned has reached the disk, so an acknowledged message
  // survives a power cut, not only a process crash.
  raw.pragma('synchronous = FULL');
  raw.pragma('foreign_keys = ON');
  raw.pragma('busy_timeout = 5000');
  // Checkpoints run in a worker (sqlite-checkpointer.ts); SQLite's own stays as a backstop
  // should that worker ever stop, at a size it should never reach.
  const checkpointer = path === ':memory:' ? undefined : startCheckpointer(path);
  if (checkpointer) raw.pragma('wal_autocheckpoint = 10000');
  raw.pragma('journal_size_limit = 67108864');
  // An in-memory store is one connection: it cannot be shared with a thread.
  const writer =
    writerThread && path !== ':memory:'
      ? new SqliteWriterThread(path, checkpointer ? 10000 : 1000)
      : undefined;
  // This connection then only reads; query_only makes sure nothing writes through it.
  if (writer) raw.pragma('query_only = ON');
  const statements = withStatementCache(raw);
  const threaded = writer ? new WorkerSqliteDialect(statements, writer) : undefined;
  const db = new Kysely<DB>({
    dialect: threaded ?? new SqliteDialect({ database: statements }),
  });
  return {
    db,
    dialect: 'sqlite',
    ...(writer && threaded ? { writerThread: writer, pipeline: threaded.pipeline } : {}),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: async () => {
      await checkpointer?.stop();
      await db.destroy();
    },
  };
}

/**
 * How to connect to a `postgres://…` store URL. A `schema` query parameter puts every
 * table in that schema (used by tests and by practices that share one database). Also
 * used for dedicated connections outside the pool (the job scheduler's lock).
 */
/** The `?schema=` of a PostgreSQL store URL, if any. */
export function postgresSchemaOf(url: string): string | undefined {
  return new URL(url).searchParams.get('schema') ?? undefined;
}

/** Schema names we accept: unquoted identifiers mean the same in search_path and DDL. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function postgresClientConfig(url: string): pg.ClientConfig {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema');
  if (schema !== null && !SCHEMA_NAME.test(schema))
    throw new Error(
      `The schema in the database URL must be a lower-case name (got ${JSON.stringify(schema)})`,
    );
  parsed.searchParams.delete('schema');
  return {
    connectionString: parsed.toString(),
    connectionTimeoutMillis: 5000,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  };
}

function openPostgres(url: string, poolSize: number): Database {
  const pool = new pg.Pool({ ...postgresClientConfig(url), max: poolSize });
  // An idle client that loses its server emits 'error'; the pool replaces it.
  pool.on('error', () => undefined);
  // A client checked out of the pool (mid-transaction, say) has no pool listener: its
  // 'error' would be an uncaught exception that ends the process. The query in flight
  // fails on its own (the request answers 503) and the pool drops the dead client.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    dialect: 'postgres',
    schema: postgresSchemaOf(url),
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

/** Advisory lock key shared by everything that changes schemas in a PostgreSQL database. */
export const SCHEMA_LOCK = 'carechat:schema-change';

export async function migrateToLatest(database: Database): Promise<void> {
  if (database.dialect === 'sqlite') return runMigrations(database, undefined);
  // Kysely's migrator looks for its tables with a query over every schema of the
  // database; one process migrating while another drops a schema (or migrates too) can
  // make that query fail. An advisory lock lets one schema change happen at a time.
  await database.db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(hashtext(${SCHEMA_LOCK}))`.execute(conn);
    try {
      if (database.schema) await ensureSchema(conn, database.schema);
      // Kysely looks for its bookkeeping tables in every schema of the database; naming
      // the current one keeps several stores in one PostgreSQL database (tests, practices) apart.
      const schema = (
        await sql<{ schema: string }>`select current_schema() as schema`.execute(conn)
      ).rows[0]?.schema;
      await runMigrations(database, schema);
    } finally {
      await sql`select pg_advisory_unlock(hashtext(${SCHEMA_LOCK}))`.execute(conn);
    }
  });
}

/**
 * Makes the URL's schema when it does not exist yet, so a fresh `?schema=` works at the
 * first start. Looked up first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege on
 * the database even when the schema is already there.
 */
async function ensureSchema(conn: Kysely<DB>, schema: string): Promise<void> {
  const found = await sql<{
    n: number;
  }>`select 1 as n from pg_namespace where nspname = ${schema}`.execute(conn);
  if (found.rows.length > 0) return;
  try {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(conn);
  } catch (err) {
    throw new Error(
      `The schema "${schema}" named in DATABASE_URL does not exist and could not be created (${err instanceof Error ? err.message : String(err)}): create it, or grant CREATE on the database`,
      { cause: err },
    );
  }
}

async function runMigrations(
  database: Database,
  migrationTableSchema: string | undefined,
): Promise<void> {
  const migrator = new Migrator({
    db: database.db,
    provider: migrationProvider(database.dialect),
    ...(migrationTableSchema ? { migrationTableSchema } : {}),
    // Migrations written side by side land in any order: a store that already ran a later
    // one (0005) still takes an earlier one that arrived after it (0004). They touch
    // different tables, so running them out of order is safe.
    allowUnorderedMigrations: true,
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error) {
    throw new Error(
      `Database migration ${failed?.migrationName ?? ''} failed: ${error instanceof Error ? error.message : JSON.stringify(error)}`,
      { cause: error },
    );
  }
}
