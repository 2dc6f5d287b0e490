import type { FastifyInstance } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AuditLogService } from '../../../domain/audit-log.js';
import { AppError } from '../../../domain/errors.js';
import { can, PRACTICE } from '../../../domain/access/policy.js';
import { iso } from '../../../domain/clock.js';
import { presentAdminUser } from '../../../domain/presenters.js';
import type { Services } from '../../services.js';
import { problemResponses } from '../schemas.js';
import { ctxOf } from '../security.js';
import { auditSearchOf, schemas } from './admin.schema.js';

/**
 * Answers every request of a non-admin in this plugin with 404 before validation runs,
 * counted against the same limit as the 404 handler, so that probing here looks exactly
 * like probing for routes that do not exist.
 */
export function hideFromNonAdmins(app: FastifyInstance): void {
  const probeLimit = app.probeLimit;
  app.addHook('onRequest', async function (request, reply) {
    if (request.auth && can(ctxOf(request).actor, 'admin.enter', PRACTICE)) return;
    await probeLimit.call(this, request, reply);
    throw new AppError('not_found', 'Not found');
  });
}

/**
 * The admin area: accounts and the audit trail. The domain checks the role on every call;
 * the hook below only makes sure that nobody else learns the area exists, not even from a
 * validation error.
 */
export const adminRoutes =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    const { accounts } = services;
    const auditLog = new AuditLogService(services.deps);
    const tags = ['admin'];

    hideFromNonAdmins(app);

    app.get(
      '/api/admin/users',
      {
        schema: {
          tags,
          summary: 'Every account, by name; filter by role or by a piece of name or email',
          querystring: schemas.listUsers.querystring,
          response: { 200: schemas.listUsers.response, ...problemResponses },
        },
      },
      async (request) => {
        const { role, q } = request.query;
        const users = await accounts.list(ctxOf(request), { role, query: q || undefined });
        return users.map(presentAdminUser);
      },
    );

    app.post(
      '/api/admin/users',
      {
        schema: {
          tags,
          summary: 'Create a patient, practitioner or admin account',
          body: schemas.createUser.body,
          response: { 201: schemas.createUser.response, ...problemResponses },
        },
      },
      async (request, reply) => {
        const user = await accounts.create(ctxOf(request), request.body);
        return reply.code(201).send(presentAdminUser(user));
      },
    );

    app.patch(
      '/api/admin/users/:id',
      {
        schema: {
          tags,
          summary: 'Change an account; disabled: true ends its sessions at once',
          params: schemas.updateUser.params,
          body: schemas.updateUser.body,
          response: { 200: schemas.updateUser.response, ...problemResponses },
        },
      },
      async (request) =>
        presentAdminUser(await accounts.update(ctxOf(request), request.params.id, request.body)),
    );

    app.post(
      '/api/admin/users/:id/password',
      {
        schema: {
          tags,
          summary: 'Set a new password; ends every session of the account',
          params: schemas.setPassword.params,
          body: schemas.setPassword.body,
          response: { 204: z.null(), ...problemResponses },
        },
      },
      async (request, reply) => {
        await accounts.resetPassword(ctxOf(request), request.params.id, request.body.password);
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/api/admin/audit',
      {
        schema: {
          tags,
          summary: 'The audit trail, newest first, one page at a time',
          querystring: schemas.audit.querystring,
          response: { 200: schemas.audit.response, ...problemResponses },
        },
      },
      (request) => auditLog.list(ctxOf(request), auditSearchOf(request.query), request.query.limit),
    );

    app.get(
      '/api/admin/audit.csv',
      {
        schema: {
          tags,
          summary: 'Export the audit trail as CSV (the export is itself audited)',
          querystring: schemas.auditCsv.querystring,
          response: {
            200: {
              description: 'The matching events, one per row, after a header row',
              content: { 'text/csv': { schema: z.string() } },
            },
            ...problemResponses,
          },
        },
      },
      async (request, reply) => {
        const { csv } = await auditLog.exportCsv(ctxOf(request), auditSearchOf(request.query));
        const stamp = iso(services.clock.now()).slice(0, 10);
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="carechat-audit-${stamp}.csv"`)
          .send(csv);
      },
    );
  };
