import { z } from 'zod';
import type { AuditSearch } from '../../../domain/audit-log.js';
import { presentUser } from '../../../domain/presenters.js';
import { iso } from '../../../domain/clock.js';
import type { UserRow } from '../../../store/schema.js';
import {
  adminCreateUserSchema,
  adminUpdateUserSchema,
  adminUserListQuerySchema,
  adminUserSchema,
  auditPageSchema,
  auditQuerySchema,
  setPasswordSchema,
  type AdminUserWire,
  type AuditQuery,
} from '../../../shared/wire.js';
import { idParams } from '../schemas.js';

export const schemas = {
  listUsers: { querystring: adminUserListQuerySchema, response: z.array(adminUserSchema) },
  createUser: { body: adminCreateUserSchema, response: adminUserSchema },
  updateUser: { params: idParams, body: adminUpdateUserSchema, response: adminUserSchema },
  setPassword: { params: idParams, body: setPasswordSchema },
  audit: { querystring: auditQuerySchema, response: auditPageSchema },
  auditCsv: { querystring: auditQuerySchema.omit({ beforeId: true, limit: true }) },
};

export function presentAdminUser(u: UserRow): AdminUserWire {
  return {
    ...presentUser(u),
    createdAt: iso(Number(u.created_at)),
    updatedAt: iso(Number(u.updated_at)),
    disabledAt: u.disabled_at === null ? null : iso(Number(u.disabled_at)),
  };
}

/** Query strings to the store's filter: ISO times to epoch milliseconds. */
export function auditSearchOf(q: Partial<AuditQuery>): AuditSearch {
  return {
    actorId: q.actorId,
    action: q.action,
    targetId: q.targetId,
    from: q.from === undefined ? undefined : Date.parse(q.from),
    to: q.to === undefined ? undefined : Date.parse(q.to),
    beforeId: q.beforeId === undefined ? undefined : Number(q.beforeId),
  };
}
