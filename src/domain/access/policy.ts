import type { RoomStatus } from '../../shared/vocabulary.js';
import type { Actor } from '../context.js';
import { AppError, notFound } from '../errors.js';

/**
 * Who may do what, decided in one place. Each resource kind lists its named permissions
 * and the rule that grants each one; anything not listed is refused (a new resource, or a
 * new permission on an old one, is denied until it gets a rule here). The scoped store
 * (store/scoped*.ts) applies the same participant rules in SQL so that a query cannot
 * return rows this module would refuse.
 */

export interface RoomSubject {
  kind: 'room';
  patientId: string;
  practitionerId: string;
  status: RoomStatus;
}

export interface AppointmentSubject {
  kind: 'appointment';
  patientId: string;
  practitionerId: string;
}

/** A user account (the caller's own, or one an admin manages). */
export interface AccountSubject {
  kind: 'account';
  userId: string;
}

/** The practice as a whole: permissions that are not about one record. */
export interface PracticeSubject {
  kind: 'practice';
}

export const PRACTICE: PracticeSubject = { kind: 'practice' };

export type Subject = RoomSubject | AppointmentSubject | AccountSubject | PracticeSubject;
type SubjectOf<K extends Subject['kind']> = Extract<Subject, { kind: K }>;
type Rule<S> = (actor: Actor, subject: S) => boolean;

const isAdmin = (a: Actor) => a.role === 'admin';
const isPatient = (a: Actor) => a.role === 'patient';
const isParticipant = (a: Actor, s: { patientId: string; practitionerId: string }) =>
  a.id === s.patientId || a.id === s.practitionerId;

const rules = {
  room: {
    // Only the two participants ever see a room's contents; admins see metadata through
    // rooms.metadata, never the conversation.
    'room.read': isParticipant,
    'room.write': (a, r) => isParticipant(a, r) && r.status === 'open',
    'room.export': isParticipant,
    'room.archive': isParticipant,
    'room.reopen': (a, r) => a.id === r.practitionerId && r.status === 'closed',
  },
  appointment: {
    'appointment.read': isParticipant,
    'appointment.decide': (a, r) => a.id === r.practitionerId,
    'appointment.cancel': (a, r) => isParticipant(a, r) || isAdmin(a),
  },
  account: {
    'account.read': (a, s) => a.id === s.userId || isAdmin(a),
    'account.update': (a, s) => a.id === s.userId || isAdmin(a),
  },
  practice: {
    /** Whether the admin area exists at all for the caller. */
    'admin.enter': isAdmin,
    'appointment.request': isPatient,
    'room.start': isPatient,
    'users.manage': isAdmin,
    'audit.read': isAdmin,
    'outbox.manage': isAdmin,
    'rooms.metadata': isAdmin,
    'appointments.all': isAdmin,
  },
} satisfies { [K in Subject['kind']]: Record<string, Rule<SubjectOf<K>>> };

type Rules = typeof rules;
export type Permission = { [K in keyof Rules]: keyof Rules[K] }[keyof Rules];

/**
 * When a refusal may say "not allowed" instead of "not found": only for a record the
 * caller can already see, and only for the permissions named here. Everything else is
 * answered as if it did not exist, so refusals cannot be used to probe.
 */
const seen: { [K in Subject['kind']]: (actor: Actor, subject: SubjectOf<K>) => boolean } = {
  room: (a, s) => can(a, 'room.read', s),
  // Whoever manages the practice's appointments sees every one of them.
  appointment: (a, s) => can(a, 'appointment.read', s) || can(a, 'appointments.all', PRACTICE),
  account: (a, s) => can(a, 'account.read', s),
  practice: () => true,
};

const refusalTitles: Partial<Record<Permission, string>> = {
  'appointment.request': 'Only patients can request appointments',
  'room.start': 'Only patients start chats; practitioners reply in existing ones',
  'appointment.decide': 'Only the practitioner can accept or decline this appointment',
  'room.reopen': 'Only the practitioner can reopen this conversation',
  'account.update': 'Ask the practice to change this for you',
};

const nouns: Record<Subject['kind'], string> = {
  room: 'Conversation',
  appointment: 'Appointment',
  account: 'User',
  practice: 'Page',
};

/** Whether the actor holds the permission on the subject. Unknown pairs are refused. */
export function can(actor: Actor, permission: Permission, subject: Subject): boolean {
  const forKind = rules[subject.kind] as Record<string, Rule<Subject> | undefined> | undefined;
  const rule = forKind && Object.hasOwn(forKind, permission) ? forKind[permission] : undefined;
  return rule ? rule(actor, subject) : false;
}

/** Throws unless the actor holds the permission: not_found, or forbidden where existence is no secret. */
export function require(actor: Actor, permission: Permission, subject: Subject): void {
  if (can(actor, permission, subject)) return;
  throw refusal(actor, permission, subject);
}

export function refusal(actor: Actor, permission: Permission, subject: Subject): AppError {
  const title = refusalTitles[permission];
  const sees = seen[subject.kind] as ((a: Actor, s: Subject) => boolean) | undefined;
  return title && sees?.(actor, subject)
    ? new AppError('forbidden', title)
    : notFound(nouns[subject.kind]);
}
