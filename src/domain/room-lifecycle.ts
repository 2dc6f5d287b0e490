import type { RoomRow } from '../store/schema.js';
import type { RoomClosedReason, RoomStatus } from '../shared/vocabulary.js';
import type { RoomSubject } from './access/policy.js';

export interface RoomState {
  status: RoomStatus;
  closedReason: RoomClosedReason | null;
}

type LifecycleFields = Pick<RoomRow, 'open_until' | 'closed_reason'>;

/**
 * Open from the appointment's acceptance until `open_until`; closed at once when its
 * appointment is cancelled or declined. Expiry is read against the clock rather than
 * written by a job, so a room is never open a moment past its time.
 */
export function roomState(room: LifecycleFields, now: number): RoomState {
  if (room.closed_reason !== null) return { status: 'closed', closedReason: room.closed_reason };
  if (now >= room.open_until) return { status: 'closed', closedReason: 'expired' };
  return { status: 'open', closedReason: null };
}

/** What the policy needs to know about a room, at this moment. */
export function roomSubject(
  room: Pick<RoomRow, 'patient_id' | 'practitioner_id'> & LifecycleFields,
  now: number,
): RoomSubject {
  return {
    kind: 'room',
    patientId: room.patient_id,
    practitionerId: room.practitioner_id,
    status: roomState(room, now).status,
  };
}

/** Reopening keeps a room open for a full window from now, or until its own time if later. */
export const reopenedUntil = (room: Pick<RoomRow, 'open_until'>, now: number, openMs: number) =>
  Math.max(room.open_until, now + openMs);

/** A shared sentence for the reason, used in errors. */
export const closedTitle: Record<RoomClosedReason, string> = {
  appointment_cancelled: 'This conversation was closed because its appointment was cancelled',
  appointment_declined: 'This conversation was closed because its appointment was declined',
  expired: 'This conversation has closed; its appointment was some time ago',
};
