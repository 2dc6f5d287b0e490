import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { checkpointSchema } from '../../../domain/audit/checkpoint.js';
import { auditVerdictSchema, type AuditVerdictWire } from '../../../shared/audit-wire.js';
import type { Services } from '../../services.js';
import { problemResponses } from '../schemas.js';
import { ctxOf } from '../security.js';
import { hideFromNonAdmins } from './admin.routes.js';

/** The audit trail's integrity: verify the hash chain, download a signed checkpoint. Admins only. */
export const adminAuditRoutes =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    const integrity = services.auditIntegrity;
    const tags = ['admin'];
    hideFromNonAdmins(app);

    app.get(
      '/api/admin/audit/verify',
      {
        schema: {
          tags,
          summary: 'Walk the audit hash chain from its first row and name the first broken row',
          response: { 200: auditVerdictSchema, ...problemResponses },
        },
      },
      async (request): Promise<AuditVerdictWire> => {
        const v = await integrity.verify(ctxOf(request));
        return {
          ok: v.ok,
          checked: v.checked,
          ...(v.firstBrokenId !== undefined ? { firstBrokenId: v.firstBrokenId } : {}),
          ...(v.problem !== undefined ? { problem: v.problem } : {}),
          headId: v.head ? String(v.head.id) : null,
        };
      },
    );

    app.get(
      '/api/admin/audit/checkpoint',
      {
        schema: {
          tags,
          summary:
            'A signed checkpoint of the chain head (Ed25519), to keep outside the store and present to npm run audit:verify -- --checkpoint FILE (the download is audited)',
          response: { 200: checkpointSchema, ...problemResponses },
        },
      },
      async (request, reply) => {
        const checkpoint = await integrity.checkpoint(ctxOf(request));
        return reply
          .header(
            'content-disposition',
            `attachment; filename="carechat-audit-checkpoint-${checkpoint.headId}.json"`,
          )
          .send(checkpoint);
      },
    );
  };
