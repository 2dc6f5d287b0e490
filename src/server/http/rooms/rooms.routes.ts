import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  dashboardSchema,
  messageSchema,
  practitionerSchema,
  roomSchema,
  unreadSchema,
} from '../../../shared/wire.js';
import type { Services } from '../../services.js';
import { idParams, problemResponses } from '../schemas.js';
import { ctxOf } from '../security.js';
import {
  pageQuery,
  pageResponse,
  readBody,
  readResponse,
  sendBody,
  startChatBody,
} from './rooms.schema.js';

export const roomsRoutes =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    const { rooms, messages } = services;
    const tags = ['rooms'];

    app.get(
      '/api/rooms',
      {
        schema: {
          tags,
          summary: "The caller's conversations, newest activity first (archived ones flagged)",
          response: { 200: z.array(roomSchema), ...problemResponses },
        },
      },
      (request) => rooms.list(ctxOf(request)),
    );

    app.post(
      '/api/rooms',
      {
        schema: {
          tags,
          summary:
            'A patient starts (or reopens) a chat with a practitioner who accepted one of their appointments',
          body: startChatBody,
          response: { 200: roomSchema, ...problemResponses },
        },
      },
      (request) => rooms.startChat(ctxOf(request), request.body.practitionerId),
    );

    app.get(
      '/api/rooms/:id',
      {
        schema: {
          tags,
          summary: 'One conversation',
          params: idParams,
          response: { 200: roomSchema, ...problemResponses },
        },
      },
      (request) => rooms.get(ctxOf(request), request.params.id),
    );

    app.get(
      '/api/rooms/:id/messages',
      {
        schema: {
          tags: ['messages'],
          summary:
            'A page of messages in ascending seq: after a seq, before a seq, or the newest page',
          params: idParams,
          querystring: pageQuery,
          response: { 200: pageResponse, ...problemResponses },
        },
      },
      (request) => services.feed.page(ctxOf(request), request.params.id, request.query),
    );

    app.post(
      '/api/rooms/:id/messages',
      {
        schema: {
          tags: ['messages'],
          summary:
            'Send a message: 201 with the new message, or 200 with the original for a repeated clientId',
          params: idParams,
          body: sendBody,
          response: { 200: messageSchema, 201: messageSchema, ...problemResponses },
        },
      },
      async (request, reply) => {
        const ctx = ctxOf(request);
        // The same per-user limit as sends over the WebSocket: one budget, whichever way.
        await services.sendLimit.take(ctx);
        const { message, created } = await messages.send(ctx, request.params.id, request.body);
        return reply.code(created ? 201 : 200).send(message);
      },
    );

    app.post(
      '/api/rooms/:id/read',
      {
        schema: {
          tags: ['messages'],
          summary: 'Mark the conversation read up to a seq (never moves backwards)',
          params: idParams,
          body: readBody,
          response: { 200: readResponse, ...problemResponses },
        },
      },
      async (request) => ({
        readSeq: await rooms.markRead(ctxOf(request), request.params.id, request.body.seq),
      }),
    );

    for (const [path, archived] of [
      ['archive', true],
      ['unarchive', false],
    ] as const) {
      app.post(
        `/api/rooms/:id/${path}`,
        {
          schema: {
            tags,
            summary: archived
              ? 'Archive for the caller only; a new message brings it back'
              : 'Bring an archived conversation back',
            params: idParams,
            response: { 200: roomSchema, ...problemResponses },
          },
        },
        (request) => rooms.setArchived(ctxOf(request), request.params.id, archived),
      );
    }

    app.post(
      '/api/rooms/:id/reopen',
      {
        schema: {
          tags,
          summary:
            'The practitioner reopens a closed conversation for new messages (audited); 409 if it is open',
          params: idParams,
          response: { 200: roomSchema, ...problemResponses },
        },
      },
      (request) => rooms.reopen(ctxOf(request), request.params.id),
    );

    app.get(
      '/api/me/unread',
      {
        schema: {
          tags,
          summary: 'Unread messages in total and per conversation',
          response: { 200: unreadSchema, ...problemResponses },
        },
      },
      (request) => rooms.unread(ctxOf(request)),
    );

    app.get(
      '/api/practitioners',
      {
        schema: {
          tags: ['people'],
          summary: 'Practitioners of the practice; canChat marks those a patient may message',
          response: { 200: z.array(practitionerSchema), ...problemResponses },
        },
      },
      (request) => rooms.practitioners(ctxOf(request)),
    );

    app.get(
      '/api/dashboard',
      {
        schema: {
          tags: ['dashboard'],
          summary: 'Upcoming appointments, requests to answer, recent messages and unread counts',
          response: { 200: dashboardSchema, ...problemResponses },
        },
      },
      (request) => services.dashboard(ctxOf(request)),
    );
  };
