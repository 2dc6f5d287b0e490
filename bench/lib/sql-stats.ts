/**
 * Preloaded into the carechat process with `npm run bench -- --sql-stats`: times every
 * better-sqlite3 statement (prepare, and run/get/all) by its SQL text and writes the
 * totals to $BENCH_SQL_STATS when the process exits. A CPU profile shows that time goes
 * into SQLite; this shows into which statements. It changes nothing in carechat itself.
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface SqlStat {
  sql: string;
  calls: number;
  /** Time in run/get/all. */
  execMs: number;
  /** The longest single run/get/all: a statement that waits (on a lock, an fsync) shows here. */
  maxMs: number;
  prepares: number;
  prepareMs: number;
}

type Fn = (this: { source: string }, ...args: unknown[]) => unknown;
type Prototype = Record<string, Fn | undefined>;

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3') as { prototype: Prototype };
const stats = new Map<string, SqlStat>();

// One shape per statement: lists of placeholders vary with batch size.
const normalize = (sql: string) =>
  sql
    .replace(/\(\?(?:, \?)*\)(?:, \(\?(?:, \?)*\))*/g, '(?…)')
    .replace(/\s+/g, ' ')
    .trim();

function entry(source: string): SqlStat {
  const key = normalize(source);
  let s = stats.get(key);
  if (!s)
    stats.set(key, (s = { sql: key, calls: 0, execMs: 0, maxMs: 0, prepares: 0, prepareMs: 0 }));
  return s;
}

let statementPatched = false;
const prepare = Database.prototype.prepare!;
Database.prototype.prepare = function (this: { source: string }, ...args: unknown[]) {
  const t = performance.now();
  const stmt = prepare.apply(this, args) as object;
  const e = entry(String(args[0]));
  e.prepares++;
  e.prepareMs += performance.now() - t;
  if (!statementPatched) {
    statementPatched = true;
    const proto = Object.getPrototypeOf(stmt) as Prototype;
    for (const name of ['run', 'get', 'all']) {
      const original = proto[name]!;
      proto[name] = function (this: { source: string }, ...a: unknown[]) {
        const s = performance.now();
        try {
          return original.apply(this, a);
        } finally {
          const x = entry(this.source);
          x.calls++;
          const took = performance.now() - s;
          x.execMs += took;
          if (took > x.maxMs) x.maxMs = took;
        }
      };
    }
  }
  return stmt;
};

process.on('exit', () => {
  const path = process.env.BENCH_SQL_STATS;
  if (!path) return;
  const list = [...stats.values()].sort(
    (a, b) => b.execMs + b.prepareMs - (a.execMs + a.prepareMs),
  );
  writeFileSync(path, JSON.stringify(list));
});
