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
parentPort.on('message', (m) => {
  if (m.close) {
    db.close();
    parentPort.postMessage({ closed: true });
    return;
  }
  try {
    const stmt = prepare(m.sql);
    if (stmt.reader) parentPort.postMessage({ id: m.id, rows: stmt.all(m.params) });
    else {
      const r = stmt.run(m.params);
      parentPort.postMessage({ id: m.id, changes: r.changes, insertId: Number(r.lastInsertRowid) });
    }
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: { message: String(err && err.message), code: err && err.code } });
  }
});
`;

export interface WriterResult {
  rows?: Record<string, unknown>[];
  changes?: number;
  insertId?: number;
}

interface Reply extends WriterResult {
  id?: number;
  closed?: boolean;
  error?: { message: string; code?: string };
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
    worker.on('message', (m: Reply) => {
      if (m.id === undefined) return;
      const waiting = this.inFlight.get(m.id);
      this.inFlight.delete(m.id);
      if (!waiting) return;
      if (m.error)
        waiting.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
      else waiting.resolve(m);
    });
    const gone = () => {
      if (this.worker !== worker) return;
      this.worker = undefined;
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

  run(sql: string, params: readonly unknown[]): Promise<WriterResult> {
    if (this.closing) return Promise.reject(stopped());
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<WriterResult>((resolve, reject) => {
      this.inFlight.set(id, { resolve, reject });
      worker.postMessage({ id, sql, params });
    });
  }

  /** Lets what was sent finish, then closes the connection and the thread. */
  async close(): Promise<void> {
    this.closing = true;
    const worker = this.worker;
    if (!worker) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => void worker.terminate().then(() => resolve()), 5000);
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      worker.on('message', (m: Reply) => {
        if (m.closed) void worker.terminate();
      });
      worker.postMessage({ close: true });
    });
  }
}
