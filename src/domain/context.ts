import type { AuditAction } from '../shared/audit-actions.js';
import type { AuditEntry } from '../store/audit-repository.js';
import type { Role } from '../store/schema.js';

/** Who is acting, and from where: every domain function that touches data takes one. */
export interface Actor {
  id: string;
  role: Role;
  name: string;
}

export interface Ctx {
  actor: Actor;
  ip: string | null;
}

/** For work the server does on its own (demo practice, jobs): audited as the system. */
export const systemCtx = (ip: string | null = null): Ctx => ({
  actor: { id: 'system', role: 'admin', name: 'System' },
  ip,
});

/** Who an audit row names: a signed-in actor, or nobody yet (a refused sign-in, say). */
export type AuditCtx = Pick<Ctx, 'ip'> & { actor: Pick<Actor, 'id' | 'role'> | null };

/**
 * An audit entry for something the context's actor did: who and from where come with it.
 * The only way rows are built; the audit module (domain/audit/) writes them.
 */
export function auditEntry(
  ctx: AuditCtx,
  at: number,
  action: AuditAction,
  target: { type: string; id: string | null } | null,
  detail?: AuditEntry['detail'],
): AuditEntry {
  // The one place rows are made (AuditEntry is branded so that nothing else can).
  return {
    at,
    actorId: ctx.actor?.id ?? null,
    actorRole: ctx.actor?.role ?? null,
    action,
    targetType: target?.type ?? null,
    targetId: target?.id ?? null,
    ip: ctx.ip,
    ...(detail ? { detail } : {}),
  } as AuditEntry;
}
