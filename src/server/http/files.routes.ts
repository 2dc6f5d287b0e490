import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../services.js';
import { idParams, problemResponses } from './schemas.js';
import { ctxOf } from './security.js';

/**
 * Profile photos, to whoever may see them: the rule is in the scoped store
 * (store/scoped.ts, ScopedFiles) and nowhere else. Message attachments have their own route.
 */
export const filesRoutes =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/files/:id',
      {
        schema: {
          tags: ['files'],
          summary:
            "A profile photo: staff photos to anyone signed in; a patient's to the patient, the practitioners they share an appointment or conversation with, and admins",
          params: idParams,
          response: {
            200: {
              description: 'The image, in the type it was stored with',
              content: { 'image/*': { schema: z.string().meta({ format: 'binary' }) } },
            },
            ...problemResponses,
          },
        },
      },
      async (request, reply) => {
        const file = await services.photos.get(ctxOf(request), request.params.id);
        // A photo changes under a new id, so the browser may keep it in its private cache.
        return reply
          .header('cache-control', 'private, max-age=86400, immutable')
          .header('x-content-type-options', 'nosniff')
          .type(file.content_type)
          .send(file.data as unknown as string);
      },
    );
  };
