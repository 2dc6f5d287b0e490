import type { Kysely, Selectable } from 'kysely';
import type { AuditEventsTable, DB } from './schema.js';

export type AuditRow = Selectable<AuditEventsTable>;

export interface AuditEntry {
  at: number;
  actorId: string | null;
  actorRole: string | null;
  action: string;
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

export class AuditRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async record(e: AuditEntry): Promise<void> {
    await this.recordMany([e]);
  }

  async recordMany(entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.db
      .insertInto('audit_events')
      .values(
        entries.map((e) => ({
          at: e.at,
          actor_id: e.actorId,
          actor_role: e.actorRole,
          action: e.action,
          target_type: e.targetType ?? null,
          target_id: e.targetId ?? null,
          ip: e.ip ?? null,
          detail: e.detail ? JSON.stringify(e.detail) : null,
        })),
      )
      .execute();
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
