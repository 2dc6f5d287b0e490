import { sql, type Kysely, type Migration } from 'kysely';
import { chainHash, GENESIS_HASH, type ChainedFields } from '../audit-chain.js';
import type { Dialect } from '../database.js';

const REFUSAL = 'audit_events is append-only';

/**
 * Triggers that make the audit table refuse UPDATE and DELETE (and, on PostgreSQL,
 * TRUNCATE) from anyone, the server included. Exported because the two privileged paths
 * that must empty the table (the demo reset and migrate-data --force) lift and restore
 * them by name inside their own transaction.
 */
export async function installAuditGuard(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  if (dialect === 'sqlite') {
    for (const op of ['update', 'delete']) {
      await sql
        .raw(
          `create trigger audit_events_no_${op} before ${op} on audit_events
           begin select raise(abort, '${REFUSAL}'); end`,
        )
        .execute(db);
    }
    return;
  }
  await sql
    .raw(
      `create or replace function audit_events_append_only() returns trigger
       language plpgsql as $$
       begin raise exception '${REFUSAL}' using errcode = 'P0001'; end $$`,
    )
    .execute(db);
  await sql
    .raw(
      `create trigger audit_events_no_change before update or delete on audit_events
       for each row execute function audit_events_append_only()`,
    )
    .execute(db);
  await sql
    .raw(
      `create trigger audit_events_no_truncate before truncate on audit_events
       for each statement execute function audit_events_append_only()`,
    )
    .execute(db);
}

export async function removeAuditGuard(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const triggers =
    dialect === 'sqlite'
      ? ['audit_events_no_update', 'audit_events_no_delete']
      : ['audit_events_no_change on audit_events', 'audit_events_no_truncate on audit_events'];
  for (const t of triggers) await sql.raw(`drop trigger if exists ${t}`).execute(db);
}

/**
 * The audit trail becomes a hash chain: each row stores the previous row's hash and its
 * own, SHA-256(prev_hash ‖ canonical row). Rows already there are chained in id order, so
 * an upgraded practice verifies from its first row; then the table turns append-only.
 */
export function auditChain(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('audit_events').addColumn('prev_hash', 'text').execute();
      await db.schema.alterTable('audit_events').addColumn('hash', 'text').execute();
      let prev = GENESIS_HASH;
      let after = Number.MIN_SAFE_INTEGER;
      for (;;) {
        const { rows } = await sql<ChainedFields>`
          select id, at, actor_id, actor_role, action, target_type, target_id, ip, detail
          from audit_events where id > ${after} order by id limit 1000`.execute(db);
        if (rows.length === 0) break;
        for (const row of rows) {
          const hash = chainHash(prev, row);
          await sql`update audit_events set prev_hash = ${prev}, hash = ${hash}
                    where id = ${row.id}`.execute(db);
          prev = hash;
          after = Number(row.id);
        }
      }
      await installAuditGuard(db, dialect);
    },
  };
}
