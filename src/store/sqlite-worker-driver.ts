import type SqliteDatabase from 'better-sqlite3';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
} from 'kysely';
import { SqliteWriterThread, WRITER_STOPPED, type WriterResult } from './sqlite-writer-thread.js';

/**
 * Kysely over SQLite with the write connection in a worker thread (sqlite-writer-thread.ts)
 * and a read-only connection on the main thread:
 *
 * - a statement outside a transaction that only reads runs here, at once (a page of
 *   history or the room list costs what it did; WAL readers never wait for the writer);
 * - everything else (a transaction, from its `begin immediate` to its `commit`, or a lone
 *   write) goes to the worker, one transaction at a time, and resolves when the worker
 *   answers, so the commit and its fsync happen off the event loop, and a group commit's
 *   next batch gathers while the last one is on the disk.
 *
 * A read that follows a write sees it: the writer answers only after its commit.
 *
 * Kysely runs a transaction's statements one at a time, each after the last one's answer,
 * so every statement of a transaction would cost a hop to the thread and back (ten for a
 * one-message send). A transaction that does not read its writes' row counts can say so
 * (`pipelineWrites`): from then on its writes are answered at once and travel with the next
 * statement that needs an answer (a read, or the commit), and a failure among them fails
 * that statement and the commit, so the transaction rolls back as it would have. Reads
 * that do not depend on one another can be sent side by side too (`runTogether`, through
 * `Store.readTogether`). A one-message send then costs two hops: the begin with the room
 * lock, the idempotency lookup and the audit chain's version check; then the writes with
 * the commit.
 */
/** What the transaction that holds the writer thread can ask of it, beyond Kysely. */
export interface TransactionPipeline {
  /** Its remaining writes are answered at once and travel with the next statement that waits. */
  pipelineWrites(): void;
  /** Statements that do not depend on one another, sent side by side: one hop for them all. */
  runTogether(statements: readonly CompiledQuery[]): Promise<QueryResult<unknown>[]>;
}

export class WorkerSqliteDialect implements Dialect {
  private readonly driver: WorkerSqliteDriver;

  constructor(
    reader: { prepare(sql: string): SqliteDatabase.Statement; close(): void },
    writer: SqliteWriterThread,
  ) {
    this.driver = new WorkerSqliteDriver(reader, writer);
  }

  createDriver(): Driver {
    return this.driver;
  }

  /** What the transaction open on the writer can ask of it (see the driver). */
  readonly pipeline: TransactionPipeline = {
    pipelineWrites: () => this.driver.pipelineWrites(),
    runTogether: (statements) => this.driver.runTogether(statements),
  };

  createQueryCompiler() {
    return new SqliteQueryCompiler();
  }

  createAdapter() {
    return new SqliteAdapter();
  }

  createIntrospector(db: Kysely<unknown>) {
    return new SqliteIntrospector(db);
  }
}

class WorkerSqliteDriver implements Driver {
  /** One transaction (or lone write) at a time on the writer connection. */
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly reader: { prepare(sql: string): SqliteDatabase.Statement; close(): void },
    private readonly writer: SqliteWriterThread,
  ) {}

  async init(): Promise<void> {}

  acquireConnection(): Promise<DatabaseConnection> {
    return Promise.resolve(new Connection(this));
  }

  /** Waits for the writer connection; the answer lets it go. */
  async lockWriter(): Promise<() => void> {
    let release!: () => void;
    const previous = this.writing;
    this.writing = new Promise<void>((resolve) => (release = resolve));
    await previous;
    return release;
  }

  /** The transaction that holds the writer, if any: there is one at a time. */
  private open: Connection | undefined;

  /** Lets the open transaction pipeline its writes (see the class comment). */
  pipelineWrites(): void {
    if (this.open?.tx) this.open.tx.pipelined = true;
  }

  /**
   * Runs statements of the open transaction side by side, past Kysely's one-at-a-time:
   * the writer runs them in the order given, and they cross to it together.
   */
  async runTogether(statements: readonly CompiledQuery[]): Promise<QueryResult<unknown>[]> {
    const conn = this.open;
    if (!conn?.tx) throw new Error('runTogether needs the transaction that holds the writer');
    return Promise.all(statements.map((q) => conn.execute(q.sql, q.parameters)));
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    const conn = connection as Connection;
    const release = await this.lockWriter();
    this.open = conn;
    // IMMEDIATE: the write lock from the start, so a transaction that reads and then
    // writes can never be refused for a snapshot another connection moved past. Its answer
    // is not awaited: the transaction's first statements travel with it, one hop instead of
    // two, and should it fail they answer with its error (the writer refuses a
    // transaction's statement when no transaction is open, rather than run it alone).
    this.writer.run('begin immediate', [], { begin: true }).catch(() => undefined);
    conn.tx = { generation: this.writer.generation, release, pipelined: false };
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const conn = connection as Connection;
    // A failed commit stays open: Kysely rolls it back next, which lets the writer go.
    await conn.execute('commit', []);
    conn.end();
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const conn = connection as Connection;
    try {
      // A writer that died took its transaction with it: nothing to roll back.
      if (conn.tx?.generation === this.writer.generation)
        await this.writer.run('rollback', [], { tx: true }).catch(() => undefined);
    } finally {
      conn.end();
    }
  }

  async releaseConnection(): Promise<void> {}

  async destroy(): Promise<void> {
    await this.writing;
    await this.writer.close();
    this.reader.close();
  }

  readLocally(sql: string): SqliteDatabase.Statement | undefined {
    const stmt = this.prepared(sql);
    // Pragmas set the connection they run on: the writer's is the one that matters.
    return stmt?.readonly && !/^\s*pragma/i.test(sql) ? stmt : undefined;
  }

  /** A statement that returns no rows (prepared here only to ask). */
  returnsNothing(sql: string): boolean {
    return this.prepared(sql)?.reader === false;
  }

  private prepared(sql: string): SqliteDatabase.Statement | undefined {
    try {
      return this.reader.prepare(sql);
    } catch {
      return undefined; // let the writer run it, or say why it cannot
    }
  }

  run(
    sql: string,
    params: readonly unknown[],
    role: { tx?: true; pipelined?: true },
  ): Promise<WriterResult> {
    return this.writer.run(sql, params, role);
  }

  ended(conn: Connection): void {
    if (this.open === conn) this.open = undefined;
  }

  get generation(): number {
    return this.writer.generation;
  }
}

class Connection implements DatabaseConnection {
  tx: { generation: number; release: () => void; pipelined: boolean } | undefined;

  constructor(private readonly driver: WorkerSqliteDriver) {}

  end(): void {
    const tx = this.tx;
    this.tx = undefined;
    this.driver.ended(this);
    tx?.release();
  }

  async execute(sql: string, params: readonly unknown[]): Promise<QueryResult<unknown>> {
    this.checkGeneration();
    return resultOf(await this.driver.run(sql, params, this.tx ? { tx: true } : {}));
  }

  private checkGeneration(): void {
    if (this.tx && this.tx.generation !== this.driver.generation)
      throw Object.assign(new Error('The database writer stopped during this transaction'), {
        code: WRITER_STOPPED,
      });
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const { sql, parameters } = compiled;
    if (this.tx?.pipelined && this.driver.returnsNothing(sql)) {
      this.checkGeneration();
      // Its answer (or failure) comes back with the next statement that waits for one.
      this.driver.run(sql, parameters, { tx: true, pipelined: true }).catch(() => undefined);
      return { rows: [] };
    }
    if (this.tx) return (await this.execute(sql, parameters)) as QueryResult<R>;
    const local = this.driver.readLocally(sql);
    if (local) return { rows: local.all(parameters) as R[] };
    const release = await this.driver.lockWriter();
    try {
      return (await this.execute(sql, parameters)) as QueryResult<R>;
    } finally {
      release();
    }
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming is not supported by the SQLite writer thread');
  }
}

/** Structured clone turns a Buffer into a plain Uint8Array; the store hands out Buffers. */
function resultOf(r: WriterResult): QueryResult<unknown> {
  if (r.rows) {
    for (const row of r.rows)
      for (const [k, v] of Object.entries(row))
        if (v instanceof Uint8Array && !Buffer.isBuffer(v))
          row[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    return { rows: r.rows };
  }
  return {
    rows: [],
    numAffectedRows: BigInt(r.changes ?? 0),
    insertId: r.insertId === undefined ? undefined : BigInt(r.insertId),
  };
}
