import fastifyWebsocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { RawData, WebSocket } from 'ws';
import { z } from 'zod';
import { CloseCode } from '../../shared/events.js';
import type { Authenticated } from '../../domain/auth.js';
import type { Services } from '../services.js';
import { idParams, problemResponses } from '../http/schemas.js';
import { authOf, websocketOriginAllowed } from '../http/security.js';
import { parseCommand } from './commands.js';
import { decodeCursorId, type Connection, type Sink } from './connection.js';
import type { Gateway } from './gateway.js';

/** Frames above this are refused with 4413; `ws` itself drops anything past the hard cap. */
export const MAX_FRAME_BYTES = 64 * 1024;
const HARD_CAP_BYTES = 1024 * 1024;

export async function registerWebsocketPlugin(app: FastifyInstance): Promise<void> {
  await app.register(fastifyWebsocket, {
    // Compression off: it costs CPU and memory per connection, and compressing secrets
    // next to attacker-chosen text invites CRIME-style attacks.
    options: { maxPayload: HARD_CAP_BYTES, perMessageDeflate: false, clientTracking: false },
  });
}

function wsSink(socket: WebSocket): Sink {
  return {
    kind: 'ws',
    write: (frame) => socket.send(frame),
    buffered: () => socket.bufferedAmount,
    // 1006 is never sent on the wire (ws throws): it means "dropped without a close frame", so drop it.
    close: (code, reason) => (code === 1006 ? socket.terminate() : socket.close(code, reason)),
    ping: () => socket.ping(),
  };
}

const rawToString = (data: RawData): string =>
  Array.isArray(data)
    ? Buffer.concat(data).toString('utf8')
    : Buffer.from(data as ArrayBuffer).toString('utf8');
const rawLength = (data: RawData): number =>
  Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : (data as ArrayBuffer).byteLength;

export const realtimeRoutes =
  (services: Services, gateway: Gateway): FastifyPluginAsyncZod =>
  async (app) => {
    // Public at the HTTP level so that a refused socket gets a WebSocket close code, not an HTTP error.
    app.get(
      '/api/ws',
      { websocket: true, config: { public: true }, schema: { hide: true } },
      (socket, request) => {
        // Read per upgrade, like the HTTP check: with PORT=0 the public origin is only known after listen.
        if (!websocketOriginAllowed(request, new Set([services.config.publicOrigin])))
          return socket.close(CloseCode.originRefused, 'Origin not allowed');
        const auth = request.auth;
        if (!auth) return socket.close(CloseCode.unauthenticated, 'Not signed in');

        // A function of its own, so the socket's closures do not keep the request alive.
        attachSocket(socket, auth, request.ip, gateway, services);
      },
    );

    // Server-sent events for clients that cannot hold a WebSocket; sending uses the HTTP routes.
    app.get(
      '/api/events',
      {
        schema: {
          tags: ['realtime'],
          summary:
            'Server-sent events: the WebSocket frames as data: lines; resumable with Last-Event-ID',
          headers: z.looseObject({
            'last-event-id': z
              .string()
              .optional()
              .describe('the last `id:` received; the stream resumes after it'),
          }),
          response: {
            200: {
              description:
                'An endless event stream: each event is one server frame of the AsyncAPI document as JSON in `data:`, with an `id:` to resume from',
              content: { 'text/event-stream': { schema: z.string() } },
            },
            ...problemResponses,
          },
        },
      },
      async (request, reply) => {
        const auth = authOf(request);
        const lastEventId = request.headers['last-event-id'];
        const resume =
          decodeCursorId(typeof lastEventId === 'string' ? lastEventId : undefined) ?? {};
        reply.hijack();
        const raw = reply.raw;
        raw.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-store',
          connection: 'keep-alive',
          'x-accel-buffering': 'no',
          'x-content-type-options': 'nosniff',
        });
        raw.write('retry: 2000\n\n');
        const sink: Sink = {
          kind: 'sse',
          write: (frame, id) => {
            raw.write(`${id ? `id: ${id}\n` : ''}data: ${frame}\n\n`);
          },
          buffered: () => raw.writableLength,
          close: () => raw.end(),
          ping: () => {
            raw.write(': ping\n\n');
          },
        };
        let conn: Connection | undefined;
        let gone = false;
        request.raw.on('close', () => {
          gone = true;
          if (conn) gateway.close(conn);
        });
        try {
          conn = await gateway.open(sink, auth, request.ip, resume);
          if (gone) gateway.close(conn);
        } catch (err) {
          request.log.error({ err }, 'could not open an event stream');
          raw.end();
        }
      },
    );

    app.post(
      '/api/rooms/:id/typing',
      {
        schema: {
          tags: ['realtime'],
          summary:
            'Typing indicator for clients on the event-stream fallback (expires by itself after 5 s)',
          params: idParams,
          body: z.object({ typing: z.boolean() }),
          response: { 204: z.null(), ...problemResponses },
        },
      },
      async (request, reply) => {
        const auth = authOf(request);
        await gateway.typingFromHttp(auth, request.ip, request.params.id, request.body.typing);
        return reply.code(204).send(null);
      },
    );
  };

/** Wires one authenticated WebSocket to the gateway for its lifetime. */
function attachSocket(
  socket: WebSocket,
  auth: Authenticated,
  ip: string | null,
  gateway: Gateway,
  services: Services,
): void {
  const log = services.log;
  let conn: Connection | undefined;
  const early: RawData[] = [];
  const handle = (data: RawData, c: Connection) => {
    if (rawLength(data) > MAX_FRAME_BYTES)
      return gateway.terminate(c, CloseCode.frameTooLarge, 'Frame too large');
    const cmd = parseCommand(rawToString(data));
    if (!cmd) return gateway.invalidFrame(c);
    gateway.command(c, cmd).catch((err: unknown) => log.error({ err }, 'real-time command failed'));
  };
  // Listeners go on at once: frames may arrive while the connection is being set up.
  socket.on('message', (data: RawData) => (conn ? handle(data, conn) : early.push(data)));
  socket.on('pong', () => {
    if (conn) conn.unansweredPings = 0;
  });
  socket.on('close', () => {
    if (conn) gateway.close(conn);
  });
  socket.on('error', () => socket.terminate());

  gateway.open(wsSink(socket), auth, ip).then(
    (c) => {
      conn = c;
      if (socket.readyState !== socket.OPEN) return gateway.close(c);
      for (const data of early.splice(0)) handle(data, c);
    },
    (err: unknown) => {
      log.error({ err }, 'could not open a real-time connection');
      socket.close(1011, 'Server error');
    },
  );
}
