import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CloseCode, RESUME_LIMIT, type ClientCommand } from '../../shared/events.js';
import { serverEventSchema } from '../../shared/event-schemas.js';
import { appointmentSchema, messageSchema, roomSchema } from '../../shared/wire.js';
import type { Config } from '../config.js';
import { ASYNCAPI_PATH } from '../http/docs.js';
import { problemResponses } from '../http/schemas.js';
import { sessionCookieName } from '../http/security.js';
import { clientCommandSchema } from './commands.js';
import { MAX_FRAME_BYTES } from './realtime.routes.js';

/**
 * The WebSocket protocol of `GET /api/ws` as an AsyncAPI 3.0 document, served beside the
 * OpenAPI one (http/docs.ts links to it). Every payload is
 * generated from the zod schemas that the gateway parses commands with (commands.ts) and
 * that are checked against the frame types it sends (event-schemas.ts), so the document
 * says what the code does.
 */

// Commands carry no zod descriptions of their own (commands.ts is about validation); a
// Record keyed by the command type makes a new command without a description a type error.
const commandSummaries: Record<ClientCommand['type'], string> = {
  resume:
    'Send first: the last seq seen per room. The server replays what was missed, then answers `resumed`.',
  send: 'Send a message. Answered by `ack` (or by `error` with the same clientId).',
  read: 'Mark a room read up to seq (never moves backwards).',
  typing: 'Typing started or stopped; expires by itself.',
  presence: 'The tab became active (online) or idle (away).',
  ping: 'Keep-alive from a client that wants one; no answer.',
};

const closeCodes: Record<keyof typeof CloseCode, string> = {
  unauthenticated: 'not signed in, or the session ended',
  originRefused: 'the Origin is not this site',
  tooSlow: 'the client reads too slowly (send buffer full)',
  frameTooLarge: `a frame over ${MAX_FRAME_BYTES / 1024} KB`,
  rateLimited: 'too many commands',
};

type JsonSchema = Record<string, unknown>;

function variants(schema: z.ZodType, side: string): { type: string; schema: z.ZodObject }[] {
  if (!(schema instanceof z.ZodDiscriminatedUnion))
    throw new Error(`the ${side} frames are not a discriminated union`);
  return (schema.options as z.ZodObject[]).map((option) => {
    const literal: unknown = option.shape.type;
    if (!(literal instanceof z.ZodLiteral) || typeof literal.value !== 'string')
      throw new Error(`a ${side} frame has no literal type`);
    return { type: literal.value, schema: option };
  });
}

function buildBase() {
  const registry = z.registry<{ id: string }>();
  // The shared wire shapes become components, referenced from every frame that carries one.
  registry.add(messageSchema, { id: 'Message' });
  registry.add(roomSchema, { id: 'Room' });
  registry.add(appointmentSchema, { id: 'Appointment' });
  const commands = variants(clientCommandSchema, 'client');
  const events = variants(serverEventSchema, 'server');
  for (const c of commands) registry.add(c.schema, { id: `command.${c.type}` });
  for (const e of events) registry.add(e.schema, { id: `event.${e.type}` });

  const generated = z.toJSONSchema(registry, {
    target: 'draft-7',
    uri: (id) => `#/components/schemas/${id}`,
  }).schemas;
  const schemas: Record<string, JsonSchema> = {};
  for (const [name, { $schema: _s, $id: _i, ...rest }] of Object.entries(generated))
    schemas[name] = rest;

  const messages: Record<string, JsonSchema> = {};
  for (const c of commands)
    messages[`command.${c.type}`] = {
      name: c.type,
      title: `${c.type} (client → server)`,
      summary: commandSummaries[c.type as ClientCommand['type']],
      payload: { $ref: `#/components/schemas/command.${c.type}` },
    };
  for (const e of events)
    messages[`event.${e.type}`] = {
      name: e.type,
      title: `${e.type} (server → client)`,
      summary: e.schema.description ?? e.type,
      payload: { $ref: `#/components/schemas/event.${e.type}` },
    };

  const channelMessage = (key: string) => ({ $ref: `#/channels/live/messages/${key}` });
  const commandKeys = commands.map((c) => `command.${c.type}`);
  const eventKeys = events.map((e) => `event.${e.type}`);

  return {
    channels: {
      live: {
        address: '/api/ws',
        title: 'Live delivery',
        description: [
          'One WebSocket per browser tab, authenticated by the session cookie; the Origin must be this site.',
          'Every frame is one JSON object with a `type`. Send `resume` first.',
          `A replay holds at most ${RESUME_LIMIT} messages per room; \`resumed.truncated\` names the rooms to page over HTTP.`,
          'A frame that is not a valid command is answered by `error` with code `validation_failed`.',
          `Close codes: ${Object.entries(closeCodes)
            .map(([k, why]) => `${CloseCode[k as keyof typeof CloseCode]} ${why}`)
            .join('; ')}.`,
          'Clients that cannot hold a WebSocket read the same server frames from `GET /api/events` (server-sent events, see the OpenAPI document) and send over HTTP.',
        ].join('\n\n'),
        messages: Object.fromEntries(
          [...commandKeys, ...eventKeys].map((key) => [
            key,
            { $ref: `#/components/messages/${key}` },
          ]),
        ),
        bindings: { ws: { method: 'GET', bindingVersion: '0.1.0' } },
      },
    },
    operations: {
      receiveCommand: {
        action: 'receive',
        channel: { $ref: '#/channels/live' },
        summary: 'Commands a client sends',
        messages: commandKeys.map(channelMessage),
      },
      sendEvent: {
        action: 'send',
        channel: { $ref: '#/channels/live' },
        summary: 'Frames the server sends: answers, live changes, presence and unread counts',
        messages: eventKeys.map(channelMessage),
      },
      sendMessage: {
        action: 'receive',
        channel: { $ref: '#/channels/live' },
        summary: 'Send a message and get its acknowledgement',
        messages: [channelMessage('command.send')],
        reply: {
          channel: { $ref: '#/channels/live' },
          messages: [channelMessage('event.ack'), channelMessage('event.error')],
        },
      },
    },
    components: { schemas, messages },
  };
}

let base: ReturnType<typeof buildBase> | undefined;

/** `origin` is the public origin (PUBLIC_ORIGIN), `cookieName` the session cookie's name. */
function asyncApiDocument(origin: string, cookieName: string): JsonSchema {
  base ??= buildBase();
  const url = new URL(origin);
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'carechat real-time API',
      version: '1',
      description:
        'Live delivery of messages, receipts, typing, presence and unread counts between patients and practitioners.',
      externalDocs: { description: 'The HTTP API (OpenAPI)', url: `${url.origin}/api/docs` },
    },
    defaultContentType: 'application/json',
    servers: {
      carechat: {
        host: url.host,
        protocol: url.protocol === 'https:' ? 'wss' : 'ws',
        description: 'This server',
        security: [{ $ref: '#/components/securitySchemes/session' }],
      },
    },
    ...base,
    components: {
      ...base.components,
      securitySchemes: {
        session: {
          type: 'httpApiKey',
          in: 'cookie',
          name: cookieName,
          description: 'The session cookie that POST /api/auth/login sets',
        },
      },
    },
  };
}

export const asyncApiRoutes =
  (config: Config): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      ASYNCAPI_PATH,
      {
        schema: {
          tags: ['realtime'],
          summary: 'The WebSocket protocol of GET /api/ws as an AsyncAPI 3.0 document',
          response: {
            200: z.record(z.string(), z.unknown()).describe('an AsyncAPI 3.0 document'),
            ...problemResponses,
          },
        },
      },
      // Read per request: with PORT=0 the public origin is only known after listen.
      () => asyncApiDocument(config.publicOrigin, sessionCookieName(config)),
    );
  };
