import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { presentUser } from '../../../domain/presenters.js';
import { updateMeSchema, userSchema } from '../../../shared/wire.js';
import type { Services } from '../../services.js';
import { problemResponses } from '../schemas.js';
import { authOf, ctxOf } from '../security.js';

/** The signed-in user's own account. */
export const meRoutes =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    const tags = ['account'];

    app.get(
      '/api/me',
      {
        schema: {
          tags,
          summary: 'The signed-in user',
          response: { 200: userSchema, ...problemResponses },
        },
      },
      async (request) => presentUser(authOf(request).user),
    );

    app.patch(
      '/api/me',
      {
        schema: {
          tags,
          summary:
            'Change your name; practitioners also their working hours and out-of-office notice',
          body: updateMeSchema,
          response: { 200: userSchema, ...problemResponses },
        },
      },
      async (request) => {
        const ctx = ctxOf(request);
        return presentUser(await services.accounts.update(ctx, ctx.actor.id, request.body));
      },
    );
  };
