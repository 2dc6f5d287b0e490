import { randomUUID } from 'node:crypto';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Parser as AsyncApiParser } from '@asyncapi/parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { serverEventSchema } from '../../src/shared/event-schemas.js';
import {
  ASYNCAPI_PATH,
  registeredRoutes,
  type RegisteredRoute,
} from '../../src/server/http/docs.js';
import { WEB_PAGES } from '../../src/server/http/web.routes.js';
import { clientCommandSchema } from '../../src/server/realtime/commands.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { SseClient, WsClient, buildConversation } from '../support/ws-client.js';

interface Operation {
  summary?: string;
  tags?: string[];
  parameters?: { in: string; name: string }[];
  responses?: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
}
interface OpenApiDocument {
  openapi: string;
  tags?: { name: string; description?: string }[];
  externalDocs?: { url: string };
  info: { description?: string };
  paths: Record<string, Record<string, Operation>>;
}

/** Routes that are not JSON API and so stay out of OpenAPI, each for a stated reason. */
function whyHidden(url: string): string | undefined {
  if (url === '/api/ws') return 'WebSocket: described by the AsyncAPI document';
  if (url.startsWith('/api/docs')) return 'the documentation pages themselves';
  if (
    url.startsWith('/assets/') ||
    url.startsWith('/icons/') ||
    ['/favicon.svg', '/manifest.webmanifest', '/sw.js'].includes(url)
  )
    return 'static web files';
  if (WEB_PAGES.includes(url)) return 'a page of the web app';
  return undefined;
}

const PROBLEM_REF = '#/components/schemas/Problem';
const openApiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** Everything wrong with how the document describes the registered routes; empty when all is well. */
function documentationGaps(doc: OpenApiDocument, routes: readonly RegisteredRoute[]): string[] {
  const gaps: string[] = [];
  const declaredTags = new Set((doc.tags ?? []).map((t) => t.name));
  if (declaredTags.size !== (doc.tags ?? []).length) gaps.push('a tag is declared twice');
  for (const route of routes) {
    const name = `${route.method} ${route.url}`;
    if (route.hidden) {
      if (!whyHidden(route.url)) gaps.push(`${name}: hidden from OpenAPI without a reason`);
      continue;
    }
    const op = doc.paths[openApiPath(route.url)]?.[route.method.toLowerCase()];
    if (!op) {
      gaps.push(`${name}: missing from the document`);
      continue;
    }
    if (!op.summary?.trim()) gaps.push(`${name}: no summary`);
    if (!op.tags?.length) gaps.push(`${name}: no tag`);
    for (const tag of op.tags ?? [])
      if (!declaredTags.has(tag)) gaps.push(`${name}: tag "${tag}" is not declared`);
    for (const param of route.url.match(/:[A-Za-z0-9_]+/g) ?? [])
      if (!op.parameters?.some((p) => p.in === 'path' && p.name === param.slice(1)))
        gaps.push(`${name}: path parameter ${param} has no schema`);

    const responses = op.responses ?? {};
    const success = Object.keys(responses).filter((status) => /^2/.test(status));
    if (success.length === 0) gaps.push(`${name}: no success response`);
    for (const status of success) {
      if (status === '204') continue;
      const content = Object.values(responses[status]?.content ?? {});
      if (!content.length || !content.every((c) => c.schema))
        gaps.push(`${name}: response ${status} has no schema`);
    }
    if (route.url.startsWith('/api/'))
      for (const range of ['4XX', '5XX'])
        if (responses[range]?.content?.['application/problem+json']?.schema?.$ref !== PROBLEM_REF)
          gaps.push(`${name}: ${range} is not described as problem+json`);
  }
  return gaps;
}

let t: TestApp;
let doc: OpenApiDocument;

beforeAll(async () => {
  t = await startTestApp({ listen: true });
  const res = await fetch(`${t.url}/api/docs/json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as OpenApiDocument;
});
afterAll(async () => {
  await t.stop();
});

describe('the OpenAPI document at /api/docs/json', () => {
  it('is valid OpenAPI by swagger-parser, with every $ref resolvable', async () => {
    // validate() dereferences in place; the original stays as served.
    const validated = await SwaggerParser.validate(structuredClone(doc) as never);
    expect(validated.info.title).toBe('carechat API');
    expect(Object.keys(doc.paths).length).toBeGreaterThan(25);
  });

  it('describes every registered route with a summary, a tag, and schemas for success and problem answers', () => {
    const routes = registeredRoutes(t.app);
    expect(routes.filter((r) => !r.hidden).length).toBeGreaterThan(25);
    expect(documentationGaps(doc, routes)).toEqual([]);
  });

  it('the completeness check catches a route documented without a summary, errors or a reason to hide', () => {
    const broken = structuredClone(doc);
    const rooms = broken.paths['/api/rooms']!.get!;
    delete rooms.summary;
    delete rooms.responses!['4XX'];
    const routes = [
      ...registeredRoutes(t.app),
      { method: 'GET', url: '/api/secret', hidden: true },
      { method: 'POST', url: '/api/new-thing', hidden: false },
    ];
    expect(documentationGaps(broken, routes)).toEqual([
      'GET /api/rooms: no summary',
      'GET /api/rooms: 4XX is not described as problem+json',
      'GET /api/secret: hidden from OpenAPI without a reason',
      'POST /api/new-thing: missing from the document',
    ]);
  });

  it('describes the event stream as text/event-stream and leaves the WebSocket to AsyncAPI', () => {
    const events = doc.paths['/api/events']?.get;
    expect(Object.keys(events?.responses?.['200']?.content ?? {})).toEqual(['text/event-stream']);
    expect(events?.parameters?.map((p) => `${p.in}:${p.name}`)).toEqual(['header:last-event-id']);
    expect(doc.paths['/api/ws']).toBeUndefined();
    expect(doc.externalDocs?.url).toBe(ASYNCAPI_PATH);
    expect(doc.info.description).toContain(`(${ASYNCAPI_PATH})`);
  });

  it('marks public routes as working without a session, the rest as needing one, and changes as needing the CSRF token', () => {
    expect(doc.paths['/api/auth/login']?.post).toMatchObject({ security: [{}, { session: [] }] });
    expect(doc.paths['/healthz']?.get).toMatchObject({ security: [{}, { session: [] }] });
    // Without its own, an operation takes the document's: the session alone.
    expect(doc.paths['/api/rooms']?.get).not.toHaveProperty('security');
    expect(doc.paths['/api/rooms/{id}/messages']?.post).toMatchObject({
      security: [{ session: [], csrf: [] }],
    });
  });
});

describe(`the AsyncAPI document at ${ASYNCAPI_PATH}`, () => {
  let asyncDoc: Record<string, unknown>;
  const commandTypes = (clientCommandSchema as z.ZodDiscriminatedUnion).options.map((o) =>
    String((o as z.ZodObject<{ type: z.ZodLiteral }>).shape.type.value),
  );
  const eventTypes = serverEventSchema.options.map((o) => o.shape.type.value);

  beforeAll(async () => {
    const res = await fetch(`${t.url}${ASYNCAPI_PATH}`);
    expect(res.status).toBe(200);
    asyncDoc = (await res.json()) as Record<string, unknown>;
  });

  it('passes @asyncapi/parser with no error and no warning', async () => {
    const { document, diagnostics } = await new AsyncApiParser().parse(JSON.stringify(asyncDoc));
    // Severity 0 is an error and 1 a warning; what remains is information, such as a newer
    // minor version of the specification being available.
    const serious = diagnostics.filter((d) => (d.severity as number) <= 1);
    expect(serious.map((d) => `${d.code}: ${d.message} at ${d.path.join('.')}`)).toEqual([]);
    expect(document?.version()).toBe('3.0.0');

    const names = (document?.allMessages().all() ?? []).map((m) => m.id()).sort();
    expect(names).toEqual(
      [...commandTypes.map((c) => `command.${c}`), ...eventTypes.map((e) => `event.${e}`)].sort(),
    );
    const send = document?.operations().get('sendMessage');
    expect(
      send
        ?.reply()
        ?.messages()
        .all()
        .map((m) => m.id()),
    ).toEqual(['event.ack', 'event.error']);
  });

  it('names this server and the session cookie', () => {
    const host = new URL(t.url).host;
    expect(asyncDoc).toMatchObject({
      servers: { carechat: { host, protocol: 'ws' } },
      channels: { live: { address: '/api/ws' } },
      components: { securitySchemes: { session: { in: 'cookie', name: 'carechat_session' } } },
    });
  });

  it('describes the frames a real socket carries, field for field', async () => {
    const c = await buildConversation(t);
    const patient = await WsClient.live(t.url, c.patientClient.cookie, { [c.roomId]: 0 });
    const practitioner = await WsClient.live(t.url, c.practitionerClient.cookie, {
      [c.roomId]: 0,
    });
    // The event-stream fallback carries the same frames.
    const stream = await SseClient.connect(t.url, { cookie: c.practitionerClient.cookie });
    expect(stream.status).toBe(200);
    await stream.nextOf('hello');
    const clientId = randomUUID();
    patient.send({ type: 'typing', roomId: c.roomId, typing: true });
    await practitioner.nextOf('typing');
    patient.send({ type: 'send', roomId: c.roomId, clientId, body: 'Is the swelling normal?' });
    const ack = await patient.nextOf('ack', (e) => e.clientId === clientId);
    await practitioner.nextOf('message');
    await stream.nextOf('message');
    practitioner.send({ type: 'read', roomId: c.roomId, seq: ack.message.seq });
    await patient.nextOf('receipt', (e) => e.kind === 'read');
    patient.sendRaw('{"type":"teleport"}');
    await patient.nextOf('error');

    const frames = [...patient.frames, ...practitioner.frames, ...stream.events.map((e) => e.data)];
    for (const frame of frames) {
      // zod drops keys it does not know, so equality also proves there are none.
      expect(serverEventSchema.parse(frame)).toEqual(frame);
      expect(eventTypes).toContain(frame.type);
    }
    const seen = [...new Set(frames.map((f) => f.type))];
    expect(seen).toEqual(
      expect.arrayContaining(['hello', 'resumed', 'typing', 'ack', 'message', 'receipt', 'error']),
    );
    await Promise.all([patient.close(), practitioner.close(), stream.close()]);
  });
});
