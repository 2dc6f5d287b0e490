import { z } from 'zod';
import type { AuditSearch } from '../../../domain/audit-log.js';
import {
  adminCreateUserSchema,
  adminUpdateUserSchema,
  adminUserListQuerySchema,
  adminUserSchema,
  auditPageSchema,
  auditQuerySchema,
  setPasswordSchema,
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
