import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  outboxDeliverySchema,
  outboxPageSchema,
  outboxQuerySchema,
  outboxRetriedSchema,
  outboxRetryAllSchema,
} from '../../../shared/outbox.js';
import type { Services } from '../../services.js';
import { problemResponses } from '../schemas.js';
import { ctxOf } from '../security.js';
import { hideFromNonAdmins } from './admin.routes.js';

const deliveryParams = z.object({
  id: z.string().regex(/^\d{1,15}$/, 'must be a delivery id'),
});

/** The outbox for the admin: lag and dead letters per processor, and retrying them. */
export const adminOutboxRoutes =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    const { admin } = services.outbox;
    const tags = ['admin'];
    hideFromNonAdmins(app);

    app.get(
      '/api/admin/outbox',
      {
        schema: {
          tags,
          summary:
            "Each processor's pending and dead deliveries with its oldest waiting event, and one page of deliveries in a state (dead by default), newest first",
          querystring: outboxQuerySchema,
          response: { 200: outboxPageSchema, ...problemResponses },
        },
      },
      (request) => admin.list(ctxOf(request), request.query),
    );

    app.post(
      '/api/admin/outbox/:id/retry',
      {
        schema: {
          tags,
          summary: 'Put a dead delivery back in the queue, due now, with fresh attempts (audited)',
          params: deliveryParams,
          response: { 200: outboxDeliverySchema, ...problemResponses },
        },
      },
      (request) => admin.retry(ctxOf(request), Number(request.params.id)),
    );

    app.post(
      '/api/admin/outbox/retry',
      {
        schema: {
          tags,
          summary: 'Put every dead delivery (of one processor, or all) back in the queue (audited)',
          body: outboxRetryAllSchema,
          response: { 200: outboxRetriedSchema, ...problemResponses },
        },
      },
      (request) => admin.retryDead(ctxOf(request), request.body.processor),
    );
  };
