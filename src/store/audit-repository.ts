import { sql, type Kysely, type Selectable } from 'kysely';
import type { AuditAction } from '../shared/audit-actions.js';
import { chainHash, GENESIS_HASH, type ChainedFields } from './audit-chain.js';
import type { Dialect } from './database.js';
import type { Read } from './read.js';
import { installAuditGuard, removeAuditGuard } from './migrations/0004-audit-chain.js';
import type { AuditEventsTable, DB } from './schema.js';

export type AuditRow = Selectable<AuditEventsTable>;

declare const builtByAuditEntry: unique symbol;

/**
 * One row to append. Only `auditEntry(ctx, at, action, target, detail)` (domain/context.ts)
 * makes these, from the acting context: the brand keeps rows from being built by hand.
 */
export interface AuditEntry {
  readonly [builtByAuditEntry]: true;
  at: number;
  actorId: string | null;
  actorRole: string | null;
  action: AuditAction;
  targetType?: string | null;
  targetId?: string | null;
  ip?: string | null;
  /** Metadata only: never message bodies, passwords or tokens. */
  detail?: Record<string, string | number | boolean | null> | null;
}

export interface AuditFilter {
  actorId?: string | undefined;
  action?: string | undefined;
  targetId?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
  beforeId?: number | undefined;
  limit: number;
}

/** An audit row linked into the chain, ready to insert: every column, the id included. */
export interface AuditChainRow extends ChainedFields {
  prev_hash: string;
  hash: string;
}

export interface ChainHead {
  id: number;
  hash: string;
}

/**
 * The chain's head as this process last appended it, shared by a store and every
 * transaction it opens, so that an SQLite append does not read the head back (a select
 * per batch on the hot path). SQLite's `data_version` tells whether another connection
 * (another process, a worker) committed since; then, or when unknown, the head is read.
 * A rolled-back transaction forgets it (`Store.transaction`). PostgreSQL always reads the
 * head under its advisory lock: other processes append to the same chain.
 */
export class ChainHeadMemo {
  private known: { head: ChainHead | undefined; version: number } | undefined;

  get(version: number): ChainHead | undefined | false {
    return this.known?.version === version ? this.known.head : false;
  }

  set(head: ChainHead | undefined, version: number): void {
    this.known = { head, version };
  }

  forget(): void {
    this.known = undefined;
  }
}

/** The PostgreSQL advisory lock that orders every append to one store's chain. */
const CHAIN_LOCK = 'carechat:audit-chain';

/**
 * The audit table and its one ordered writer. Rows are only ever appended, each linked to
 * the one before by its hash (store/audit-chain.ts); the table's triggers refuse UPDATE
 * and DELETE. Domain code reaches this through the audit module (domain/audit/), never by
 * building rows itself.
 */
export class AuditRepository {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect,
    private readonly memo: ChainHeadMemo = new ChainHeadMemo(),
  ) {}

  /** SQLite: the file's data_version as this transaction read it (`prepareChainVersion`). */
  private version: number | undefined;

  /**
   * SQLite, inside a write transaction: the file's data_version, read now beside the
   * transaction's other reads (`Store.readTogether`), so that its append needs no statement
   * of its own before the insert (on the writer thread, a hop). A write transaction (BEGIN
   * IMMEDIATE on the writer thread) keeps every other connection from committing until it
   * ends, so the version stays true; and should a deferred one's snapshot be overtaken, its
   * first write fails before anything is appended. Nothing to read on PostgreSQL, whose
   * chain head is read under its lock.
   */
  prepareChainVersion(): Read<void> {
    if (this.dialect !== 'sqlite' || !this.db.isTransaction)
      return { statements: [], decode: () => undefined };
    return {
      statements: [sql`pragma data_version`.compile(this.db)],
      decode: ([rows]) => {
        this.version = Number((rows?.[0] as { data_version?: number } | undefined)?.data_version);
      },
    };
  }

  async record(e: AuditEntry): Promise<void> {
    await this.recordMany([e]);
  }

  /**
   * Appends rows to the chain. Inside a transaction they commit or roll back with it;
   * outside one they get a transaction of their own. Either way the chain's head is taken
   * once per call, so a group-committed batch of reads pays for one lock.
   */
  async recordMany(entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    if (this.db.isTransaction) return this.append(this.db, entries);
    try {
      await this.db.transaction().execute((trx) => this.append(trx, entries));
    } catch (err) {
      this.memo.forget();
      throw err;
    }
  }

  /**
   * PostgreSQL, inside a transaction: takes the chain's lock, reads its head, and answers
   * the entries as hashed rows for the caller to insert in a statement of its own (a send
   * batch writes them together with its messages: one round trip instead of one more). The
   * lock is held until commit, so the rows must be inserted in this transaction.
   */
  async chainRows(entries: readonly AuditEntry[]): Promise<AuditChainRow[]> {
    if (this.dialect !== 'postgres' || !this.db.isTransaction)
      throw new Error('chainRows is for a PostgreSQL transaction that inserts the rows itself');
    if (entries.length === 0) return [];
    await lockChain(this.db);
    return chained(await headOf(this.db), entries);
  }

  private async append(trx: Kysely<DB>, entries: readonly AuditEntry[]): Promise<void> {
    // On PostgreSQL every process appends to the same chain: a transaction-scoped lock
    // (keyed by schema, like the job runner's) makes them take turns, held until commit
    // so the next writer reads a head that has committed. Audit rows are the last thing a
    // transaction writes, so this is the last lock it takes and cannot close a cycle.
    // SQLite has one writer connection; its transactions are already in turn.
    if (this.dialect === 'postgres') await lockChain(trx);
    const version =
      this.dialect === 'sqlite' ? (this.version ?? (await dataVersion(trx))) : undefined;
    const remembered = version === undefined ? false : this.memo.get(version);
    const head = remembered === false ? await headOf(trx) : remembered;
    const rows = chained(head, entries);
    // Ids are explicit: should the memo ever be stale, the insert fails on the primary key
    // (and the transaction's rollback forgets the memo) instead of forking the chain.
    await trx.insertInto('audit_events').values(rows).execute();
    const last = rows.at(-1);
    if (version !== undefined)
      this.memo.set(last ? { id: last.id, hash: last.hash } : head, version);
  }

  /** The newest row's id and hash, or undefined for an empty trail. */
  head(): Promise<ChainHead | undefined> {
    return headOf(this.db);
  }

  /** Rows in chain order after `afterId`, for walking the chain. */
  chainPage(afterId: number, limit: number): Promise<AuditRow[]> {
    return this.db
      .selectFrom('audit_events')
      .selectAll()
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  findById(id: number): Promise<AuditRow | undefined> {
    return this.db.selectFrom('audit_events').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * The one privileged way to empty the trail (the demo reset): inside the caller's
   * transaction, lift the append-only guard, delete every row, restore the guard. Nothing
   * is hidden: the new chain starts with a row that names the head it replaced.
   */
  async resetChain(at: number): Promise<void> {
    if (!this.db.isTransaction) throw new Error('resetChain needs a transaction');
    const old = await headOf(this.db);
    const db = this.db as unknown as Kysely<unknown>;
    await removeAuditGuard(db, this.dialect);
    await this.db.deleteFrom('audit_events').execute();
    await installAuditGuard(db, this.dialect);
    this.memo.forget();
    // The store's own row, so built here: the domain's helper is out of the store's reach.
    const entry: Omit<AuditEntry, typeof builtByAuditEntry> = {
      at,
      actorId: 'system',
      actorRole: 'admin',
      action: 'audit.chain_reset',
      targetType: 'audit',
      targetId: null,
      detail: { previousHeadId: old?.id ?? null, previousHeadHash: old?.hash ?? null },
    };
    await this.append(this.db, [entry as AuditEntry]);
  }

  list(f: AuditFilter): Promise<AuditRow[]> {
    let q = this.db.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(f.limit);
    if (f.actorId) q = q.where('actor_id', '=', f.actorId);
    if (f.action) q = q.where('action', '=', f.action);
    if (f.targetId) q = q.where('target_id', '=', f.targetId);
    if (f.from !== undefined) q = q.where('at', '>=', f.from);
    if (f.to !== undefined) q = q.where('at', '<', f.to);
    if (f.beforeId !== undefined) q = q.where('id', '<', f.beforeId);
    return q.execute();
  }
}

/** Waits for this schema's chain lock (PostgreSQL), held until the transaction ends. */
async function lockChain(trx: Kysely<DB>): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtext(${CHAIN_LOCK}), hashtext(current_schema()))`.execute(
    trx,
  );
}

/** The entries as rows linked after `head` (store/audit-chain.ts), ids counted on from its id. */
function chained(head: ChainHead | undefined, entries: readonly AuditEntry[]): AuditChainRow[] {
  let { id, hash } = head ?? { id: 0, hash: GENESIS_HASH };
  return entries.map((e) => {
    id += 1;
    const fields: ChainedFields = {
      id,
      at: e.at,
      actor_id: e.actorId,
      actor_role: e.actorRole,
      action: e.action,
      target_type: e.targetType ?? null,
      target_id: e.targetId ?? null,
      ip: e.ip ?? null,
      detail: e.detail ? JSON.stringify(e.detail) : null,
    };
    const row = { ...fields, prev_hash: hash, hash: chainHash(hash, fields) };
    hash = row.hash;
    return row;
  });
}

/** SQLite: changes exactly when another connection committed to the file since the last look. */
async function dataVersion(db: Kysely<DB>): Promise<number> {
  const { rows } = await sql<{ data_version: number }>`pragma data_version`.execute(db);
  return Number(rows[0]?.data_version);
}

async function headOf(db: Kysely<DB>): Promise<ChainHead | undefined> {
  const row = await db
    .selectFrom('audit_events')
    .select(['id', 'hash'])
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? { id: Number(row.id), hash: row.hash ?? '' } : undefined;
}
