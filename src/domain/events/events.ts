import type { AppointmentStatus } from '../../store/schema.js';
import type { SessionEndReason } from '../../bus/bus.js';

/**
 * Domain events: facts the outbox keeps until every processor that takes them has run.
 * They carry ids and facts only, never health information (no message bodies, no
 * appointment reasons, no notes), because they sit in a queue that operators read.
 */
export type DomainEvent =
  | {
      /** Messages one sender committed in one room in one group commit. */
      type: 'messages.committed';
      roomId: string;
      senderId: string;
      recipientId: string;
      firstSeq: number;
      lastSeq: number;
      count: number;
      /** The recipient had a Web Push subscription when these committed. */
      recipientPush: boolean;
    }
  | {
      type: 'appointment.requested';
      appointmentId: string;
      patientId: string;
      practitionerId: string;
    }
  | {
      type: 'appointment.changed';
      appointmentId: string;
      patientId: string;
      practitionerId: string;
      from: AppointmentStatus;
      to: AppointmentStatus;
      byUserId: string;
    }
  | {
      type: 'room.opened';
      roomId: string;
      appointmentId: string;
      patientId: string;
      practitionerId: string;
    }
  | {
      /** A conversation stopped taking messages with its appointment (cancelled, declined). */
      type: 'room.closed';
      roomId: string;
      appointmentId: string;
      reason: 'appointment_cancelled' | 'appointment_declined';
      byUserId: string;
    }
  | { type: 'room.reopened'; roomId: string; byUserId: string }
  | { type: 'room.archived'; roomId: string; userId: string; archived: boolean }
  | {
      type: 'session.ended';
      userId: string;
      /** Hashes as stored in `sessions`; absent means every session of the user. */
      sessionIds?: string[];
      reason: SessionEndReason;
    };

export type EventType = DomainEvent['type'];

/** What an event is about, for the admin's view and for finding an aggregate's events. */
export function subjectOf(e: DomainEvent): string {
  switch (e.type) {
    case 'messages.committed':
    case 'room.opened':
    case 'room.closed':
    case 'room.reopened':
    case 'room.archived':
      return e.roomId;
    case 'appointment.requested':
    case 'appointment.changed':
      return e.appointmentId;
    case 'session.ended':
      return e.userId;
  }
}

/** An event as a processor receives it: the fact, its id, and the key for deduplicating. */
export interface Delivered<E extends DomainEvent = DomainEvent> {
  /** The outbox row (for the admin and the logs). */
  deliveryId: number;
  eventId: string;
  /** Stable across retries and restarts: `eventId:processor`. Use it to make effects idempotent. */
  idempotencyKey: string;
  /** Attempts before this one. */
  attempt: number;
  createdAt: number;
  event: E;
}
