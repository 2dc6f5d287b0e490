import { STATUS_CODES } from 'node:http';
import type { FastifyInstance } from 'fastify';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { Config } from '../config.js';
import { sessionCookieName } from './security.js';

/**
 * The API's own description: OpenAPI at /api/docs/json (with Swagger UI at /api/docs)
 * and the WebSocket protocol as AsyncAPI at /api/docs/asyncapi.json (realtime/asyncapi.ts).
 * Both are public reading: they describe the API, not anyone's data.
 */

export const ASYNCAPI_PATH = '/api/docs/asyncapi.json';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** One route as registered, documented or not; tests hold the OpenAPI document against it. */
export interface RegisteredRoute {
  method: string;
  url: string;
  hidden: boolean;
}

const catalogues = new WeakMap<FastifyInstance, RegisteredRoute[]>();

export function registeredRoutes(app: FastifyInstance): readonly RegisteredRoute[] {
  return catalogues.get(app) ?? [];
}

const tags = [
  { name: 'auth', description: 'Sign-in, sign-out and the session' },
  { name: 'account', description: "The signed-in user's own account" },
  { name: 'people', description: 'Practitioners a patient can see' },
  { name: 'appointments', description: 'Requests, answers and cancellations' },
  { name: 'rooms', description: 'Conversations between a patient and a practitioner' },
  { name: 'messages', description: 'Message history, sending and read marks' },
  { name: 'dashboard', description: 'What the start page shows' },
  { name: 'files', description: 'Profile photos' },
  {
    name: 'attachments',
    description: 'Photos and PDFs in a conversation: upload, download, thumbnail',
  },
  { name: 'realtime', description: 'The event-stream fallback and the WebSocket description' },
  {
    name: 'admin',
    description: 'Accounts, conversations, the audit trail and the outbox (admins only)',
  },
  { name: 'health', description: 'Liveness and readiness probes' },
  {
    name: 'notifications',
    description:
      'Notifications for people who are not looking: preferences, e-mail unsubscribe links, Web Push devices',
  },
];

type Responses = Record<string, { description?: string; content?: unknown }>;

/**
 * Schemas with a registry id (the problem details) become shared components. The library
 * emits an input and an output variant of each; the ones nothing refers to are dropped.
 * A 204 has no body, whatever schema the route gives its serializer.
 */
const finishDocument: typeof jsonSchemaTransformObject = (input) => {
  const document = jsonSchemaTransformObject(input);
  for (const operations of Object.values(document.paths ?? {}) as Record<string, unknown>[])
    for (const operation of Object.values(operations ?? {})) {
      const responses = (operation as { responses?: Responses }).responses ?? {};
      if (responses['204']) delete responses['204'].content;
      // Fastify's placeholder says nothing; the status text at least names the outcome.
      for (const [status, response] of Object.entries(responses))
        if (response.description === 'Default Response')
          response.description = STATUS_CODES[status] ?? response.description;
    }
  const schemas = 'components' in document ? document.components?.schemas : undefined;
  if (!schemas) return document;
  const text = JSON.stringify(document.paths);
  for (const name of Object.keys(schemas))
    if (!text.includes(`"#/components/schemas/${name}"`)) delete schemas[name];
  return document;
};

export async function registerDocs(app: FastifyInstance, config: Config): Promise<void> {
  const routes: RegisteredRoute[] = [];
  catalogues.set(app, routes);
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/api/docs')) route.config = { ...(route.config ?? {}), public: true };
    const schema = route.schema as { hide?: boolean; security?: unknown } | undefined;
    const methods = [route.method].flat();
    if (schema && !schema.hide) {
      // Public routes work without a session (some behave differently with one); the rest
      // need one, and a change also needs its CSRF token (security.ts).
      if (route.config?.public) schema.security = [{}, { session: [] }];
      else if (!route.config?.csrfExempt && methods.some((m) => !SAFE_METHODS.has(m)))
        schema.security = [{ session: [], csrf: [] }];
    }
    for (const method of methods)
      if (method !== 'HEAD') routes.push({ method, url: route.url, hidden: schema?.hide === true });
  });

  await app.register(fastifySwagger, {
    openapi: {
      info: {
        title: 'carechat API',
        version: '1',
        description: [
          'Secure messaging between patients and practitioners. Sign in with POST /api/auth/login; send the returned csrfToken as `x-csrf-token` on every non-GET request. Errors are `application/problem+json` with a stable `code`.',
          `Live delivery runs over a WebSocket at \`GET /api/ws\`, described as an [AsyncAPI 3.0 document](${ASYNCAPI_PATH}). Clients that cannot hold a WebSocket use \`GET /api/events\` (server-sent events, below) and send over HTTP.`,
        ].join('\n\n'),
      },
      externalDocs: {
        description: 'The WebSocket protocol (AsyncAPI 3.0)',
        url: ASYNCAPI_PATH,
      },
      tags,
      components: {
        securitySchemes: {
          session: {
            type: 'apiKey',
            in: 'cookie',
            name: sessionCookieName(config),
            description: 'Set by POST /api/auth/login',
          },
          csrf: {
            type: 'apiKey',
            in: 'header',
            name: 'x-csrf-token',
            description: 'The csrfToken that login and GET /api/auth/session answer with',
          },
        },
      },
      security: [{ session: [] }],
    },
    transform: jsonSchemaTransform,
    transformObject: finishDocument,
  });

  await app.register(fastifySwaggerUi, {
    routePrefix: '/api/docs',
    // The app-wide CSP (helmet) applies here too, unchanged. The standalone layout's top bar
    // draws its logo with an inline <style>, which that CSP rightly refuses, and offers a box
    // that loads any other document into this origin's page; the base layout has the rest.
    staticCSP: false,
    uiConfig: { deepLinking: false, layout: 'BaseLayout' },
    theme: { title: 'carechat API' },
  });
}
