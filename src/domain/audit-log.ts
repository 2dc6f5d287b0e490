import type { AuditFilter, AuditRow } from '../store/audit-repository.js';
import type { Store } from '../store/store.js';
import type { AuditEventWire } from '../shared/wire.js';
import { iso } from './clock.js';
import { auditEntry, type Ctx } from './context.js';
import type { Deps } from './deps.js';
import { PRACTICE, require } from './access/policy.js';

export type AuditSearch = Omit<AuditFilter, 'limit'>;

/** The most rows one export holds; a wider range needs narrower filters. */
export const AUDIT_EXPORT_MAX = 50_000;

const CSV_COLUMNS = [
  'id',
  'at',
  'actor_id',
  'actor_role',
  'actor_name',
  'action',
  'target_type',
  'target_id',
  'ip',
  'detail',
] as const;

/**
 * The audit trail as admins read it. Only admins; everyone else is told it does not exist.
 * Reading the trail is not itself health information, but exporting it moves it out of
 * the system, so every export is written to the trail in the same transaction.
 */
export class AuditLogService {
  constructor(private readonly deps: Deps) {}

  async list(
    ctx: Ctx,
    search: AuditSearch,
    limit: number,
  ): Promise<{ events: AuditEventWire[]; nextBeforeId: string | null }> {
    require(ctx.actor, 'audit.read', PRACTICE);
    // One row more than asked tells whether an older page exists.
    const rows = await this.deps.store.audit.list({ ...search, limit: limit + 1 });
    const page = rows.slice(0, limit);
    const events = await this.present(this.deps.store, page);
    // Who looked at whose trail is itself worth knowing: the trail names patients.
    await this.deps.readAudit.record(
      auditEntry(
        ctx,
        this.deps.clock.now(),
        'audit.read',
        { type: 'audit', id: null },
        { count: page.length, ...searchDetail(search) },
      ),
    );
    const last = page[page.length - 1];
    return { events, nextBeforeId: rows.length > limit && last ? String(last.id) : null };
  }

  async exportCsv(ctx: Ctx, search: AuditSearch): Promise<{ csv: string; rows: number }> {
    require(ctx.actor, 'audit.read', PRACTICE);
    const { store, clock } = this.deps;
    return store.transaction(async (tx) => {
      const rows = await tx.audit.list({ ...search, limit: AUDIT_EXPORT_MAX });
      // Everything inside the transaction goes through `tx`: on SQLite the outer handle
      // would wait for the connection this transaction holds.
      const events = await this.present(tx, rows);
      await tx.audit.record(
        auditEntry(
          ctx,
          clock.now(),
          'audit.export',
          { type: 'audit', id: null },
          { rows: rows.length, ...searchDetail(search) },
        ),
      );
      const lines = [CSV_COLUMNS.join(',')];
      for (const e of events) {
        lines.push(
          [
            e.id,
            e.at,
            e.actorId,
            e.actorRole,
            e.actorName,
            e.action,
            e.targetType,
            e.targetId,
            e.ip,
            e.detail ? JSON.stringify(e.detail) : null,
          ]
            .map(csvCell)
            .join(','),
        );
      }
      return { csv: `${lines.join('\r\n')}\r\n`, rows: rows.length };
    });
  }

  private async present(store: Store, rows: readonly AuditRow[]): Promise<AuditEventWire[]> {
    const actorIds = [...new Set(rows.map((r) => r.actor_id).filter((id) => id !== null))];
    const actors = await store.users.findManyByIds(actorIds);
    const names = new Map(actors.map((u) => [u.id, u.name]));
    return rows.map((r) => ({
      id: String(r.id),
      at: iso(Number(r.at)),
      actorId: r.actor_id,
      actorRole: r.actor_role,
      actorName: r.actor_id
        ? (names.get(r.actor_id) ?? (r.actor_id === 'system' ? 'System' : null))
        : null,
      action: r.action,
      targetType: r.target_type,
      targetId: r.target_id,
      ip: r.ip,
      detail: parseDetail(r.detail),
    }));
  }
}

function searchDetail(search: AuditSearch) {
  return {
    actorId: search.actorId ?? null,
    action: search.action ?? null,
    targetId: search.targetId ?? null,
    from: search.from !== undefined ? iso(search.from) : null,
    to: search.to !== undefined ? iso(search.to) : null,
  };
}

function parseDetail(raw: string | null): AuditEventWire['detail'] {
  if (!raw) return null;
  try {
    const value: unknown = JSON.parse(raw);
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as AuditEventWire['detail'])
      : null;
  } catch {
    return null;
  }
}

/**
 * RFC 4180 quoting, plus a leading apostrophe on anything a spreadsheet would run as a
 * formula: names and emails in the trail are typed by users.
 */
export function csvCell(value: string | null): string {
  if (value === null) return '';
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
