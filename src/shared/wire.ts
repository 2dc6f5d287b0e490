import { z } from 'zod';
import { TEXT_FIELDS, humanText } from './text.js';
import { APPOINTMENT_STATUSES, ROLES, ROOM_CLOSED_REASONS, ROOM_STATUSES } from './vocabulary.js';

/** Wire shapes shared by the server (validation, OpenAPI) and the web app (types). */

export {
  MESSAGE_MAX,
  type AppointmentStatus,
  type Role,
  type RoomClosedReason,
} from './vocabulary.js';

export const roleSchema = z.enum(ROLES);

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

export const appointmentStatusSchema = z.enum(APPOINTMENT_STATUSES);

export const appointmentReasonSchema = humanText(TEXT_FIELDS.reason);
/** Empty means no note. */
export const appointmentNoteSchema = humanText(TEXT_FIELDS.note);
/** How far ahead an appointment may be requested. */
export const APPOINTMENT_MAX_YEARS_AHEAD = 2;

export const appointmentSchema = z.object({
  id: z.string(),
  patient: personSchema,
  practitioner: personSchema,
  startsAt: z.string(),
  reason: z.string(),
  status: appointmentStatusSchema,
  note: z.string().nullable(),
  roomId: z.string().nullable(),
  permissions: z
    .object({
      decide: z.boolean().describe('the caller may accept or decline it now'),
      cancel: z.boolean().describe('the caller may cancel it now'),
    })
    .describe('what the caller may do with this appointment'),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type AppointmentWire = z.infer<typeof appointmentSchema>;

export const attachmentSchema = z.object({
  id: z.string(),
  name: z.string(),
  contentType: z.string(),
  size: z.number().int().describe('bytes, as stored (images after re-encoding)'),
  kind: z.enum(['image', 'pdf']),
  width: z.number().int().optional(),
  height: z.number().int().optional(),
  pages: z.number().int().optional(),
  thumbnailUrl: z.string().optional(),
  url: z.string(),
});
export type AttachmentWire = z.infer<typeof attachmentSchema>;

/** At most this many files on one message. */
export const ATTACHMENTS_PER_MESSAGE = 5;

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
  attachments: z.array(attachmentSchema).optional(),
});
export type MessageWire = z.infer<typeof messageSchema>;

export const roomStatusSchema = z.enum(ROOM_STATUSES);
export const roomClosedReasonSchema = z.enum(ROOM_CLOSED_REASONS);

export const roomSchema = z.object({
  id: z.string(),
  status: roomStatusSchema.describe('closed rooms stay readable but take no new messages'),
  closedReason: roomClosedReasonSchema.nullable(),
  permissions: z
    .object({
      write: z.boolean(),
      export: z.boolean(),
      archive: z.boolean(),
      reopen: z.boolean().describe('the practitioner may open a closed room again'),
    })
    .describe('what the caller may do in this room'),
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

/** Bodies: the text policy (shared/text.ts) for multi-line text, 1..MESSAGE_MAX characters. */
export const messageBodySchema = humanText(TEXT_FIELDS.message);

export const unreadSchema = z.object({
  total: z.number().int(),
  rooms: z.record(z.string(), z.number().int()),
});
export type UnreadWire = z.infer<typeof unreadSchema>;

/** GET /api/dashboard */
export const dashboardSchema = z.object({
  upcomingAppointments: z.array(appointmentSchema),
  requests: z
    .array(appointmentSchema)
    .describe('for a practitioner: requests waiting for an answer'),
  recentMessages: z.array(
    z.object({ message: messageSchema, roomId: z.string(), from: personSchema }),
  ),
  unread: unreadSchema,
});
export type DashboardWire = z.infer<typeof dashboardSchema>;

// ---- Accounts: the caller's own (/api/me) and the admin area (/api/admin/*) ----

export const personNameSchema = humanText(TEXT_FIELDS.name);
export const specialtySchema = humanText(TEXT_FIELDS.specialty);
/** Empty means none (stored as null). */
export const outOfOfficeSchema = humanText(TEXT_FIELDS.outOfOffice);
const personName = personNameSchema;
const outOfOfficeText = outOfOfficeSchema.nullable();

/** A user as the admin area lists them. */
export const adminUserSchema = userSchema.extend({
  createdAt: z.string(),
  updatedAt: z.string(),
  disabledAt: z.string().nullable(),
});
export type AdminUserWire = z.infer<typeof adminUserSchema>;

export const adminUserListQuerySchema = z.object({
  role: roleSchema.optional(),
  q: z.string().trim().max(200).optional().describe('matches name or email, case-insensitive'),
});

export const adminCreateUserSchema = z.object({
  role: roleSchema,
  email: z.string().max(254),
  name: personName,
  password: z.string().max(512).describe('12 to 128 characters'),
  dateOfBirth: z.iso.date().nullable().optional().describe('patients: YYYY-MM-DD'),
  specialty: specialtySchema.nullable().optional().describe('practitioners'),
  workingHours: workingHoursSchema.nullable().optional().describe('practitioners'),
  outOfOffice: outOfOfficeText.optional().describe('practitioners'),
});

const atLeastOneField = (o: Record<string, unknown>) =>
  Object.values(o).some((v) => v !== undefined);

export const adminUpdateUserSchema = z
  .object({
    name: personName.optional(),
    email: z.string().max(254).optional(),
    specialty: specialtySchema.nullable().optional(),
    dateOfBirth: z.iso.date().nullable().optional(),
    disabled: z.boolean().optional().describe('true ends every session of the user at once'),
    workingHours: workingHoursSchema.nullable().optional(),
    outOfOffice: outOfOfficeText.optional(),
  })
  .refine(atLeastOneField, 'Nothing to change');

export const setPasswordSchema = z.object({
  password: z.string().max(512).describe('12 to 128 characters'),
});

/** What a signed-in user may change about themselves; working hours and out-of-office are for practitioners. */
export const updateMeSchema = z
  .object({
    name: personName.optional(),
    workingHours: workingHoursSchema.nullable().optional(),
    outOfOffice: outOfOfficeText.optional(),
  })
  .refine(atLeastOneField, 'Nothing to change');

export const auditEventSchema = z.object({
  id: z.string(),
  at: z.string(),
  actorId: z.string().nullable(),
  actorRole: z.string().nullable(),
  actorName: z.string().nullable(),
  action: z.string().describe('e.g. auth.login, auth.login_failed, user.create, user.disable'),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  ip: z.string().nullable(),
  detail: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).nullable(),
});
export type AuditEventWire = z.infer<typeof auditEventSchema>;

export const auditQuerySchema = z.object({
  actorId: z.string().max(64).optional(),
  action: z.string().max(100).optional(),
  targetId: z.string().max(64).optional(),
  from: z.iso.datetime({ offset: true }).optional().describe('inclusive'),
  to: z.iso.datetime({ offset: true }).optional().describe('exclusive'),
  beforeId: z
    .string()
    .regex(/^\d{1,15}$/, 'must be an event id')
    .optional()
    .describe('next page: the nextBeforeId of the previous page'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type AuditQuery = z.infer<typeof auditQuerySchema>;

export const auditPageSchema = z.object({
  events: z.array(auditEventSchema).describe('newest first'),
  nextBeforeId: z.string().nullable().describe('null when there are no older events'),
});
export type AuditPageWire = z.infer<typeof auditPageSchema>;

/** What an admin sees of a conversation: metadata only, never message bodies. */
export const adminRoomSchema = z.object({
  id: z.string(),
  appointmentId: z.string(),
  appointmentStatus: appointmentStatusSchema.nullable(),
  appointmentStartsAt: z.string().nullable(),
  status: roomStatusSchema,
  closedReason: roomClosedReasonSchema.nullable(),
  patient: personSchema,
  practitioner: personSchema,
  messageCount: z.number().int(),
  lastActivityAt: z.string(),
  createdAt: z.string(),
});
export type AdminRoomWire = z.infer<typeof adminRoomSchema>;
