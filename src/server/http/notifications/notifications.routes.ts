import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { checkUnsubscribe, unsubscribe } from '../../../domain/notifications/unsubscribe.js';
import { notificationPreferencesSchema } from '../../../shared/notifications.js';
import type { Services } from '../../services.js';
import { problemResponses } from '../schemas.js';
import { ctxOf } from '../security.js';
import { unsubscribedPage, unsubscribePage } from './unsubscribe-page.js';

const linkQuery = z.object({
  u: z.string().min(1).max(64),
  s: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, 'is not a valid signature')
    .describe('the HMAC the e-mail carried'),
});

const htmlPage = (description: string) => ({
  description,
  content: { 'text/html': { schema: z.string() } },
});

/** The signed-in user's notification preferences, and the e-mails' one-click unsubscribe. */
export const notificationsRoutes =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    const prefs = services.notifications.preferences;

    app.get(
      '/api/me/notifications',
      {
        schema: {
          tags: ['notifications'],
          summary: 'Your notification preferences (defaults until you change them)',
          response: { 200: notificationPreferencesSchema, ...problemResponses },
        },
      },
      async (request) => prefs.get(ctxOf(request)),
    );

    app.put(
      '/api/me/notifications',
      {
        schema: {
          tags: ['notifications'],
          summary: 'Change your notification preferences: e-mail, quiet period, push',
          body: notificationPreferencesSchema,
          response: { 200: notificationPreferencesSchema, ...problemResponses },
        },
      },
      async (request) => prefs.update(ctxOf(request), request.body),
    );

    // RFC 8058: the mail provider POSTs `List-Unsubscribe=One-Click` as a form. The body
    // says nothing the signature does not, so it is read (small) and ignored.
    for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data'])
      app.addContentTypeParser(type, { parseAs: 'string', bodyLimit: 4096 }, (_req, _body, done) =>
        done(null, {}),
      );

    app.get(
      '/api/notifications/unsubscribe',
      {
        config: { public: true },
        schema: {
          tags: ['notifications'],
          summary:
            'The page an unsubscribe link opens: a button that turns e-mail off (a GET changes nothing, so mail scanners cannot)',
          querystring: linkQuery,
          response: { 200: htmlPage('A confirmation page with one button'), ...problemResponses },
        },
      },
      async (request, reply) => {
        await checkUnsubscribe(services.store, request.query.u, request.query.s);
        return reply
          .type('text/html; charset=utf-8')
          .send(unsubscribePage(request.query.u, request.query.s));
      },
    );

    app.post(
      '/api/notifications/unsubscribe',
      {
        // Authorized by the link's signature alone: a mail provider sends no Origin,
        // no cookie and no CSRF token, and the link can do nothing but turn e-mail off.
        config: { public: true, signedLink: true },
        schema: {
          tags: ['notifications'],
          summary: 'One-click unsubscribe (RFC 8058): turns e-mail notifications off',
          querystring: linkQuery,
          response: { 200: htmlPage('E-mail notifications are off'), ...problemResponses },
        },
      },
      async (request, reply) => {
        await unsubscribe(services.store, services.clock, {
          userId: request.query.u,
          signature: request.query.s,
          ip: request.ip,
        });
        return reply.type('text/html; charset=utf-8').send(unsubscribedPage());
      },
    );
  };
