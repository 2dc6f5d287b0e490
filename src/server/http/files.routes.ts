import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { notFound } from '../../domain/errors.js';
import type { Services } from '../services.js';
import { idParams, problemResponses } from './schemas.js';

/** Profile photos. Any signed-in user may see them; message attachments have their own route. */
export const filesRoutes =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/files/:id',
      {
        schema: {
          tags: ['files'],
          summary: 'A profile photo',
          params: idParams,
          response: { 200: z.string().describe('image bytes'), ...problemResponses },
        },
      },
      async (request, reply) => {
        const file = await services.store.files.find(request.params.id);
        if (!file) throw notFound('File');
        // Photos are not health information and change under a new id, so they may be cached privately.
        return reply
          .header('cache-control', 'private, max-age=86400, immutable')
          .header('x-content-type-options', 'nosniff')
          .type(file.content_type)
          .send(file.data as unknown as string);
      },
    );
  };
