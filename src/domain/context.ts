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

/** An audit entry for something the context's actor did: who and from where come with it. */
export function auditEntry(
  ctx: Ctx,
  at: number,
  action: string,
  target: { type: string; id: string | null } | null,
  detail?: AuditEntry['detail'],
): AuditEntry {
  return {
    at,
    actorId: ctx.actor.id,
    actorRole: ctx.actor.role,
    action,
    targetType: target?.type ?? null,
    targetId: target?.id ?? null,
    ip: ctx.ip,
    ...(detail ? { detail } : {}),
  };
}
