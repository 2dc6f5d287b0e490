import { z } from 'zod';
import {
  appointmentNoteSchema,
  appointmentReasonSchema,
  appointmentStatusSchema,
} from '../../../shared/wire.js';

export const createAppointmentBody = z.object({
  practitionerId: z.string().min(1).max(64),
  startsAt: z.iso
    .datetime({ offset: true, error: 'startsAt must be an ISO 8601 date-time' })
    .describe('in the future, at most two years ahead'),
  reason: appointmentReasonSchema,
});

export const transitionBody = z.object({ note: appointmentNoteSchema.optional() }).default({});

export const listAppointmentsQuery = z.object({
  status: appointmentStatusSchema.optional(),
  scope: z.enum(['upcoming', 'past', 'all']).default('all'),
});
