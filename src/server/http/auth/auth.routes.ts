import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { presentUser } from '../../../domain/presenters.js';
import { PASSWORD_MAX } from '../../../domain/passwords.js';
import { userSchema } from '../../../shared/wire.js';
import { authOf, clearSessionCookie, setSessionCookie } from '../security.js';
import type { Services } from '../../services.js';
import { problemResponses } from '../schemas.js';
import { meRoutes } from './me.routes.js';

const sessionResponse = z.object({
  user: userSchema,
  csrfToken: z.string(),
  idleTimeoutSeconds: z
    .number()
    .int()
    .describe('the session ends after this long without a request; clients warn before it'),
  attachmentMaxBytes: z
    .number()
    .int()
    .optional()
    .describe('the largest file an upload may be, so the app can say so before sending it'),
  vapidPublicKey: z
    .string()
    .describe("the server's VAPID public key (base64url), for PushManager.subscribe"),
});

export const authRoutes =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    const { config, auth } = services;
    await app.register(meRoutes(services));

    app.post(
      '/api/auth/login',
      {
        config: { public: true, csrfExempt: true },
        schema: {
          tags: ['auth'],
          summary: 'Sign in with email and password',
          description:
            "Needs no CSRF token, but like every state-changing request it must carry this server's Origin (or Sec-Fetch-Site: same-origin). Ends the session this browser held before, if any.",
          body: z.object({
            email: z.string().max(254),
            password: z.string().max(PASSWORD_MAX * 4),
          }),
          response: { 200: sessionResponse, ...problemResponses },
        },
      },
      async (request, reply) => {
        const result = await auth.login(request.body.email, request.body.password, {
          ip: request.ip,
          userAgent: request.headers['user-agent'] ?? null,
          replaces: request.auth?.session,
        });
        setSessionCookie(reply, config, result.token);
        return {
          user: presentUser(result.user),
          csrfToken: result.session.csrf_token,
          idleTimeoutSeconds: Math.floor(config.sessionIdleMs / 1000),
          attachmentMaxBytes: config.attachments.maxBytes,
          vapidPublicKey: services.push.vapidPublicKey,
        };
      },
    );

    app.post(
      '/api/auth/logout',
      {
        schema: {
          tags: ['auth'],
          summary: 'Sign out: ends the session everywhere',
          response: { 204: z.null(), ...problemResponses },
        },
      },
      async (request, reply) => {
        await auth.logout(authOf(request), request.ip);
        clearSessionCookie(reply, config);
        reply.header('clear-site-data', '"cache", "cookies", "storage"');
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/api/auth/session',
      {
        config: { public: true },
        schema: {
          tags: ['auth'],
          summary: 'The current session, with the CSRF token for state-changing requests',
          response: { 200: sessionResponse, ...problemResponses },
        },
      },
      async (request) => {
        const a = authOf(request);
        return {
          user: presentUser(a.user),
          csrfToken: a.session.csrf_token,
          idleTimeoutSeconds: Math.floor(config.sessionIdleMs / 1000),
          attachmentMaxBytes: config.attachments.maxBytes,
          vapidPublicKey: services.push.vapidPublicKey,
        };
      },
    );
  };
