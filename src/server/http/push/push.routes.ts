import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../../services.js';
import { problemResponses } from '../schemas.js';
import { authOf, ctxOf } from '../security.js';

const endpoint = z.string().min(1).max(2048).describe("the push service's URL for this browser");
const key = z.string().min(1).max(200);

/** This browser's Web Push subscription: added when the user turns push on here, removed when off. */
export const pushRoutes =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    const { subscriptions } = services.push;
    const tags = ['notifications'];

    app.post(
      '/api/me/push-subscriptions',
      {
        schema: {
          tags,
          summary: "Turn on Web Push for this browser (its PushSubscription's JSON)",
          description:
            'The endpoint must be https. The subscription belongs to this session: signing out removes it. Pushes carry no health information.',
          body: z.object({
            endpoint,
            expirationTime: z.number().nullable().optional(),
            keys: z.object({ p256dh: key, auth: key }),
          }),
          response: { 204: z.null(), ...problemResponses },
        },
      },
      async (request, reply) => {
        const { endpoint: url, keys } = request.body;
        await subscriptions.subscribe(ctxOf(request), authOf(request).session.id_hash, {
          endpoint: url,
          keys,
        });
        return reply.code(204).send(null);
      },
    );

    app.delete(
      '/api/me/push-subscriptions',
      {
        schema: {
          tags,
          summary: 'Turn off Web Push for this browser',
          description:
            'Removes the subscription with this endpoint if it is yours; 204 either way.',
          body: z.object({ endpoint }),
          response: { 204: z.null(), ...problemResponses },
        },
      },
      async (request, reply) => {
        await subscriptions.unsubscribe(ctxOf(request), request.body.endpoint);
        return reply.code(204).send(null);
      },
    );
  };
