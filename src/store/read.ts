import type { CompiledQuery, Kysely } from 'kysely';
import type { DB } from './schema.js';

/**
 * A read prepared but not yet run: its statements, and how their rows become the answer.
 * Reads that do not depend on one another can then run side by side
 * (`Store.readTogether`), where one after another would cost a hop each.
 */
export interface Read<T> {
  readonly statements: readonly CompiledQuery[];
  decode(rows: readonly unknown[][]): T;
}

/** Runs one read on its own. */
export async function runRead<T>(db: Kysely<DB>, read: Read<T>): Promise<T> {
  const rows: unknown[][] = [];
  for (const statement of read.statements) rows.push((await db.executeQuery(statement)).rows);
  return read.decode(rows);
}
