import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AppointmentAction } from '../../../domain/appointments.js';
import { appointmentSchema } from '../../../shared/wire.js';
import type { Services } from '../../services.js';
import { idParams, problemResponses } from '../schemas.js';
import { ctxOf } from '../security.js';
import {
  createAppointmentBody,
  listAppointmentsQuery,
  transitionBody,
} from './appointments.schema.js';

export const appointmentsRoutes =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    const { appointments } = services;
    const tags = ['appointments'];

    app.get(
      '/api/appointments',
      {
        schema: {
          tags,
          summary: "The caller's appointments, soonest first (every appointment for an admin)",
          querystring: listAppointmentsQuery,
          response: { 200: z.array(appointmentSchema), ...problemResponses },
        },
      },
      (request) => appointments.list(ctxOf(request), request.query),
    );

    app.post(
      '/api/appointments',
      {
        schema: {
          tags,
          summary: 'A patient requests an appointment (status requested)',
          body: createAppointmentBody,
          response: { 201: appointmentSchema, ...problemResponses },
        },
      },
      async (request, reply) =>
        reply.code(201).send(await appointments.request(ctxOf(request), request.body)),
    );

    app.get(
      '/api/appointments/:id',
      {
        schema: {
          tags,
          summary: 'One appointment',
          params: idParams,
          response: { 200: appointmentSchema, ...problemResponses },
        },
      },
      (request) => appointments.get(ctxOf(request), request.params.id),
    );

    const actions: { action: AppointmentAction; summary: string }[] = [
      { action: 'accept', summary: 'The practitioner accepts; this opens the chat room' },
      { action: 'decline', summary: 'The practitioner declines' },
      { action: 'cancel', summary: 'Either side (or an admin) cancels' },
    ];
    for (const { action, summary } of actions) {
      app.post(
        `/api/appointments/:id/${action}`,
        {
          schema: {
            tags,
            summary,
            params: idParams,
            body: transitionBody,
            response: { 200: appointmentSchema, ...problemResponses },
          },
        },
        (request) =>
          appointments.transition(ctxOf(request), request.params.id, action, request.body.note),
      );
    }
  };
