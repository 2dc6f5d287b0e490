import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../services.js';

const readySchema = z.object({
  status: z.enum(['ready', 'degraded', 'unavailable']),
  store: z.enum(['sqlite', 'postgres']),
  storeReachable: z.boolean(),
  bus: z.enum(['local', 'redis']),
  busHealthy: z.boolean(),
  fanOut: z.enum(['single-process', 'multi-process']),
});

export const healthRoutes =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/healthz',
      {
        config: { public: true },
        schema: {
          tags: ['health'],
          summary: 'The process is alive',
          response: { 200: z.object({ status: z.literal('ok') }) },
        },
      },
      () => ({ status: 'ok' as const }),
    );

    app.get(
      '/readyz',
      {
        config: { public: true },
        schema: {
          tags: ['health'],
          summary: 'Ready when the store (and Redis, when configured) can be reached',
          response: { 200: readySchema, 503: readySchema },
        },
      },
      async (_request, reply) => {
        const storeReachable = await services.database.ping().then(
          () => true,
          () => false,
        );
        const busHealthy = services.bus.healthy();
        const status = !storeReachable ? 'unavailable' : busHealthy ? 'ready' : 'degraded';
        return reply.code(storeReachable ? 200 : 503).send({
          status,
          store: services.database.dialect,
          storeReachable,
          bus: services.bus.mode,
          busHealthy,
          fanOut: services.bus.mode === 'redis' ? 'multi-process' : 'single-process',
        });
      },
    );
  };
