/**
 * The product's closed vocabularies and limits, defined once for the server, the store and
 * the web app. No zod here, so the browser bundle can import values from it; the zod
 * schemas in wire.ts are built from these lists.
 */

export const ROLES = ['patient', 'practitioner', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const APPOINTMENT_STATUSES = ['requested', 'accepted', 'declined', 'cancelled'] as const;
export type AppointmentStatus = (typeof APPOINTMENT_STATUSES)[number];

export const ROOM_STATUSES = ['open', 'closed'] as const;
export type RoomStatus = (typeof ROOM_STATUSES)[number];

export const ROOM_CLOSED_REASONS = [
  'appointment_cancelled',
  'appointment_declined',
  'expired',
] as const;
export type RoomClosedReason = (typeof ROOM_CLOSED_REASONS)[number];

/** Message bodies: at most this many characters (code points) after trimming. */
export const MESSAGE_MAX = 10_000;
