import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  adminRoomSchema,
  appointmentSchema,
  appointmentStatusSchema,
} from '../../../shared/wire.js';
import type { Services } from '../../services.js';
import { problemResponses } from '../schemas.js';
import { ctxOf } from '../security.js';
import { hideFromNonAdmins } from './admin.routes.js';

/** The admin's view of appointments and conversations (metadata only). Non-admins get 404. */
export const adminRoomsRoutes =
  (services: Services): FastifyPluginAsyncZod =>
  async (app) => {
    hideFromNonAdmins(app);

    app.get(
      '/api/admin/rooms',
      {
        schema: {
          tags: ['admin'],
          summary:
            "Conversations' metadata, newest activity first: participants, appointment, message count; never bodies",
          querystring: z.object({
            limit: z.coerce.number().int().min(1).max(200).default(50),
            offset: z.coerce.number().int().min(0).default(0),
          }),
          response: { 200: z.array(adminRoomSchema), ...problemResponses },
        },
      },
      (request) => services.rooms.adminList(ctxOf(request), request.query),
    );

    app.get(
      '/api/admin/appointments',
      {
        schema: {
          tags: ['admin'],
          summary: 'Every appointment of the practice, soonest first',
          querystring: z.object({
            status: appointmentStatusSchema.optional(),
            scope: z.enum(['upcoming', 'past', 'all']).default('all'),
          }),
          response: { 200: z.array(appointmentSchema), ...problemResponses },
        },
      },
      (request) => services.appointments.adminList(ctxOf(request), request.query),
    );
  };
