import { z } from 'zod';

/** Wire shapes shared by the server (validation, OpenAPI) and the web app (types). */

export const roleSchema = z.enum(['patient', 'practitioner', 'admin']);
export type Role = z.infer<typeof roleSchema>;

export const workingHoursSchema = z
  .array(
    z.object({
      day: z.number().int().min(0).max(6).describe('0 = Sunday'),
      start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM'),
      end: z.string().regex(/^([01]\d|2[0-4]):[0-5]\d$/, 'HH:MM'),
    }),
  )
  .max(21);
export type WorkingHours = z.infer<typeof workingHoursSchema>;

export const userSchema = z.object({
  id: z.string(),
  role: roleSchema,
  name: z.string(),
  email: z.string(),
  photoUrl: z.string().nullable(),
  specialty: z.string().nullable(),
  dateOfBirth: z.string().nullable(),
  workingHours: workingHoursSchema.nullable(),
  outOfOffice: z.string().nullable(),
  disabled: z.boolean(),
});
export type UserWire = z.infer<typeof userSchema>;

/** What one participant sees of the other. */
export const personSchema = z.object({
  id: z.string(),
  role: roleSchema,
  name: z.string(),
  photoUrl: z.string().nullable(),
  specialty: z.string().nullable(),
  dateOfBirth: z.string().nullable(),
});
export type PersonWire = z.infer<typeof personSchema>;

export const practitionerSchema = z.object({
  id: z.string(),
  name: z.string(),
  specialty: z.string().nullable(),
  photoUrl: z.string().nullable(),
  canChat: z.boolean().describe('the caller (a patient) has an accepted appointment with them'),
  workingHours: workingHoursSchema.nullable(),
  outOfOffice: z.string().nullable(),
});
export type PractitionerWire = z.infer<typeof practitionerSchema>;

export const appointmentStatusSchema = z.enum(['requested', 'accepted', 'declined', 'cancelled']);
export type AppointmentStatus = z.infer<typeof appointmentStatusSchema>;

export const appointmentSchema = z.object({
  id: z.string(),
  patient: personSchema,
  practitioner: personSchema,
  startsAt: z.string(),
  reason: z.string(),
  status: appointmentStatusSchema,
  note: z.string().nullable(),
  roomId: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type AppointmentWire = z.infer<typeof appointmentSchema>;

export const messageSchema = z.object({
  id: z.string(),
  roomId: z.string(),
  seq: z.number().int(),
  senderId: z.string(),
  clientId: z.string(),
  body: z.string(),
  createdAt: z.string(),
  editedAt: z.string().optional(),
  deletedAt: z.string().optional(),
});
export type MessageWire = z.infer<typeof messageSchema>;

export const roomSchema = z.object({
  id: z.string(),
  appointmentId: z.string(),
  appointment: z
    .object({
      id: z.string(),
      startsAt: z.string(),
      status: appointmentStatusSchema,
      reason: z.string(),
    })
    .nullable(),
  patient: personSchema,
  practitioner: personSchema,
  lastSeq: z.number().int(),
  lastMessage: z
    .object({
      id: z.string(),
      seq: z.number().int(),
      senderId: z.string(),
      preview: z.string(),
      createdAt: z.string(),
      deleted: z.boolean(),
    })
    .nullable(),
  lastActivityAt: z.string(),
  unreadCount: z.number().int(),
  readSeq: z.number().int().describe("the caller's read mark"),
  otherReadSeq: z.number().int().describe("the other participant's read mark (read receipts)"),
  otherDeliveredSeq: z.number().int().describe("the other participant's delivered mark"),
  archived: z.boolean(),
});
export type RoomWire = z.infer<typeof roomSchema>;

export const uuidSchema = z.uuid();

/** Bodies: trimmed, NFC, 1..10,000 characters, no control characters but newline and tab. */
export const MESSAGE_MAX = 10_000;
export const messageBodySchema = z
  .string()
  .transform((s) => s.replace(/\r\n?/g, '\n').normalize('NFC').trim())
  .superRefine((s, ctx) => {
    const length = [...s].length;
    if (length === 0) ctx.addIssue({ code: 'custom', message: 'Message is empty' });
    if (length > MESSAGE_MAX)
      ctx.addIssue({ code: 'custom', message: `Message is longer than ${MESSAGE_MAX} characters` });
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u0008\u000B-\u001F\u007F]/.test(s))
      ctx.addIssue({ code: 'custom', message: 'Message contains control characters' });
  });

export const sendMessageSchema = z.object({ clientId: uuidSchema, body: messageBodySchema });

export const unreadSchema = z.object({
  total: z.number().int(),
  rooms: z.record(z.string(), z.number().int()),
});
export type UnreadWire = z.infer<typeof unreadSchema>;
