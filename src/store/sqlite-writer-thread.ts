import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// CommonJS, evaluated in the worker (like the checkpointer's): the store's one write
// connection. Statements arrive one message each, in order, and run synchronously here,
// so a commit's fsync blocks this thread and never the event loop that serves sockets.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('foreign_keys = ON');
db.pragma('busy_timeout = 5000');
db.pragma('wal_autocheckpoint = ' + workerData.autocheckpoint);
db.pragma('journal_size_limit = 67108864');
const cache = new Map();
function prepare(sql) {
  let stmt = cache.get(sql);
  if (stmt) cache.delete(sql);
  else {
    stmt = db.prepare(sql);
    if (cache.size >= 500) cache.delete(cache.keys().next().value);
  }
  cache.set(sql, stmt);
  return stmt;
}
// Why the open transaction is not open, for its later statements: they fail with this
// instead of running on their own, outside any transaction.
let beginError;
// The first failure of a pipelined write (one whose answer nobody waited for): every later
// statement of its transaction, the commit too, answers with it, so the transaction can
// only roll back.
let writeError;
function run(m) {
  try {
    if (m.tx && !db.inTransaction) {
      if (m.sql === 'rollback') return { id: m.id, changes: 0 };
      return { id: m.id, error: beginError || { message: 'The transaction is not open on the database writer', code: 'SQLITE_WRITER_NO_TRANSACTION' } };
    }
    if (m.tx && writeError) {
      if (m.sql !== 'rollback') return { id: m.id, error: writeError };
      writeError = undefined;
    }
    const stmt = prepare(m.sql);
    if (stmt.reader) return { id: m.id, rows: stmt.all(m.params) };
    const r = stmt.run(m.params);
    if (m.begin) beginError = writeError = undefined;
    return { id: m.id, changes: r.changes, insertId: Number(r.lastInsertRowid) };
  } catch (err) {
    const error = { message: String(err && err.message), code: err && err.code };
    if (m.begin) beginError = error;
    if (m.pipelined) writeError = error;
    return { id: m.id, error };
  }
}
// Statements come in batches (everything the main thread sent in one turn) and their answers
// go back as one message: a message each way per turn, not per statement.
parentPort.on('message', (m) => {
  if (m.close) {
    db.close();
    parentPort.postMessage({ closed: true });
    return;
  }
  parentPort.postMessage(m.map(run));
});
`;

export interface WriterResult {
  rows?: Record<string, unknown>[];
  changes?: number;
  insertId?: number;
}

interface Reply extends WriterResult {
  id: number;
  error?: { message: string; code?: string };
}

interface Statement {
  id: number;
  sql: string;
  params: readonly unknown[];
  /** Part of an open transaction: refused, not run alone, if the writer has none open. */
  tx?: true;
  /** A transaction's `begin`: its failure is what the transaction's later statements answer. */
  begin?: true;
  /** A write nobody waits for: its failure fails the rest of its transaction. */
  pipelined?: true;
}

/** What a query in flight gets when the writer thread dies: a retryable failure, never a success. */
export const WRITER_STOPPED = 'SQLITE_WRITER_STOPPED';

function stopped(): Error {
  return Object.assign(new Error('The database writer stopped; nothing in flight was committed'), {
    code: WRITER_STOPPED,
  });
}

/**
 * The SQLite write connection in a worker thread. `run` sends one statement and resolves
 * with what it returned once it has run (for `commit`: once it is durable). When the
 * thread dies, everything in flight fails with `SQLITE_WRITER_STOPPED` (SQLite discards
 * the uncommitted transaction) and the next statement starts a new thread; `generation`
 * tells a transaction begun on the old one that it is gone.
 */
export class SqliteWriterThread {
  private worker: Worker | undefined;
  private readonly inFlight = new Map<
    number,
    { resolve: (r: WriterResult) => void; reject: (e: Error) => void }
  >();
  private nextId = 1;
  /** Statements sent in this turn, posted together once it ends. */
  private outbox: Statement[] = [];
  private closing = false;
  generation = 0;

  constructor(
    private readonly path: string,
    private readonly autocheckpoint: number,
  ) {
    this.start();
  }

  private start(): Worker {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { path: this.path, driver, autocheckpoint: this.autocheckpoint },
    });
    worker.on('message', (replies: Reply[] | { closed: true }) => {
      if (!Array.isArray(replies)) return;
      for (const m of replies) {
        const waiting = this.inFlight.get(m.id);
        this.inFlight.delete(m.id);
        if (!waiting) continue;
        if (m.error)
          waiting.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
        else waiting.resolve(m);
      }
    });
    const gone = () => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      this.outbox = [];
      // The generation ends with its thread, not when the next one starts: a statement of
      // a transaction begun on this thread, issued after it died, must fail rather than
      // start the next thread and run there alone, outside any transaction.
      this.generation += 1;
      for (const w of this.inFlight.values()) w.reject(stopped());
      this.inFlight.clear();
    };
    worker.on('error', gone);
    worker.on('exit', gone);
    this.worker = worker;
    return worker;
  }

  /** The thread's id while it runs (tests end it to show that nothing in flight is acknowledged). */
  get threadId(): number | undefined {
    return this.worker?.threadId;
  }

  /** Ends the thread at once, as a crash would. */
  async kill(): Promise<void> {
    await this.worker?.terminate();
  }

  /**
   * Sends a statement. Statements sent in one turn of the event loop travel together (one
   * `postMessage` each way for the lot), so a transaction's writes issued side by side cost
   * the thread hop once; `postMessage` was a tenth of the main thread's time in the knee
   * profile when every statement crossed alone.
   */
  run(
    sql: string,
    params: readonly unknown[],
    role: { tx?: true; begin?: true; pipelined?: true } = {},
  ): Promise<WriterResult> {
    if (this.closing) return Promise.reject(stopped());
    if (!this.worker) this.start();
    const id = this.nextId++;
    return new Promise<WriterResult>((resolve, reject) => {
      this.inFlight.set(id, { resolve, reject });
      this.outbox.push({ id, sql, params, ...role });
      if (this.outbox.length === 1) setImmediate(this.flush);
    });
  }

  /** How many times statements crossed to the thread (one `postMessage` each time). */
  crossings = 0;

  private readonly flush = () => {
    const batch = this.outbox;
    this.outbox = [];
    if (batch.length > 0 && this.worker) this.crossings += 1;
    // Emptied by a dead thread (its statements already failed) or by close.
    if (batch.length > 0) this.worker?.postMessage(batch);
  };

  /** Lets what was sent finish, then closes the connection and the thread. */
  async close(): Promise<void> {
    this.closing = true;
    this.flush();
    const worker = this.worker;
    if (!worker) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => void worker.terminate().then(() => resolve()), 5000);
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      worker.on('message', (m: unknown) => {
        if (!Array.isArray(m)) void worker.terminate();
      });
      worker.postMessage({ close: true });
    });
  }
}
