import type { Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { AppointmentStatus, Role, RoomClosedReason } from '../shared/vocabulary.js';

export type { AppointmentStatus, Role, RoomClosedReason };

/**
 * The database as Kysely sees it. Times are epoch milliseconds (bigint) so that the same
 * migrations and comparisons work on SQLite and PostgreSQL; flags are nullable timestamps.
 */
export interface DB {
  users: UsersTable;
  files: FilesTable;
  sessions: SessionsTable;
  audit_events: AuditEventsTable;
  appointments: AppointmentsTable;
  rooms: RoomsTable;
  room_members: RoomMembersTable;
  messages: MessagesTable;
  rate_limits: RateLimitsTable;
  events: EventsTable;
  event_deliveries: EventDeliveriesTable;
  attachments: AttachmentsTable;
  attachment_chunks: AttachmentChunksTable;
  attachment_links: AttachmentLinksTable;
  blob_intents: BlobIntentsTable;
  push_subscriptions: PushSubscriptionsTable;
  push_keys: PushKeysTable;
  notification_preferences: NotificationPreferencesTable;
  notification_state: NotificationStateTable;
}

export interface UsersTable {
  id: string;
  role: Role;
  email: string;
  email_lower: string;
  name: string;
  password_hash: string;
  date_of_birth: string | null;
  specialty: string | null;
  working_hours: string | null;
  out_of_office: string | null;
  photo_file_id: string | null;
  disabled_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface FilesTable {
  id: string;
  owner_id: string | null;
  content_type: string;
  byte_size: number;
  data: Buffer;
  created_at: number;
}

export interface SessionsTable {
  id_hash: string;
  user_id: string;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
  ip: string | null;
  user_agent: string | null;
}

export interface AuditEventsTable {
  id: Generated<number>;
  at: number;
  actor_id: string | null;
  actor_role: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  detail: string | null;
  /** The hash chain (migration 0004): the row before's hash, and this row's. */
  prev_hash: string | null;
  hash: string | null;
}

export interface AppointmentsTable {
  id: string;
  patient_id: string;
  practitioner_id: string;
  starts_at: number;
  reason: string;
  status: AppointmentStatus;
  note: string | null;
  cancelled_by: string | null;
  created_at: number;
  updated_at: number;
}

export interface RoomsTable {
  id: string;
  appointment_id: string;
  patient_id: string;
  practitioner_id: string;
  last_seq: number;
  last_activity_at: number;
  created_at: number;
  /** New messages are taken until then (the appointment's time plus ROOM_OPEN_DAYS, or a reopening's). */
  open_until: number;
  closed_at: number | null;
  /** Set when the room was closed before its time; null while open or merely expired. */
  closed_reason: RoomClosedReason | null;
}

export interface RoomMembersTable {
  room_id: string;
  user_id: string;
  read_seq: number;
  delivered_seq: number;
  archived_at: number | null;
  /** Messages received from the other participant, and how many of them are read. */
  received_count: Generated<number>;
  read_received: Generated<number>;
}

export interface MessagesTable {
  id: string;
  room_id: string;
  seq: number;
  sender_id: string;
  client_id: string;
  body: string;
  created_at: number;
  edited_at: number | null;
  deleted_at: number | null;
  /** JSON: the presented attachments the message carries (immutable once sent), or null. */
  attachments: string | null;
}

export interface RateLimitsTable {
  key: string;
  window_start: number;
  count: number;
}

/** A domain event as stored by the outbox (see domain/events). `payload` is JSON. */
export interface EventsTable {
  id: string;
  type: string;
  subject_id: string | null;
  payload: string;
  created_at: number;
}

export type DeliveryState = 'pending' | 'done' | 'dead';

/** One event's work for one named processor, with its retry state. */
export interface EventDeliveriesTable {
  id: Generated<number>;
  event_id: string;
  processor: string;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export type AttachmentKind = 'image' | 'pdf';

export interface AttachmentsTable {
  id: string;
  room_id: string;
  uploader_id: string;
  message_id: string | null;
  kind: AttachmentKind;
  /** The file name to show and to offer on download; never used as a storage key. */
  name: string;
  content_type: string;
  byte_size: number;
  width: number | null;
  height: number | null;
  pages: number | null;
  /** Opaque, random storage keys of the file and its thumbnail. */
  blob_key: string;
  thumb_key: string | null;
  thumb_size: number | null;
  /** With DATA_KEY: which master key wraps this file's data key, and the wrapped key. */
  key_id: string | null;
  wrapped_key: Buffer | null;
  created_at: number;
  attached_at: number | null;
}

export interface AttachmentChunksTable {
  blob_key: string;
  idx: number;
  data: Buffer;
}

/** A file's bytes being written, not yet referred to by a committed row (0011-blob-intents). */
export interface BlobIntentsTable {
  blob_key: string;
  created_at: number;
}

/** A one-time link to a file on ATTACHMENT_ORIGIN (the token itself is never stored). */
export interface AttachmentLinksTable {
  token_hash: string;
  user_id: string;
  attachment_id: string;
  part: 'file' | 'thumbnail';
  expires_at: number;
}

export type AttachmentRow = Selectable<AttachmentsTable>;
export type UserRow = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
export type SessionRow = Selectable<SessionsTable>;
export type AppointmentRow = Selectable<AppointmentsTable>;
export type RoomRow = Selectable<RoomsTable>;
export type MessageRow = Selectable<MessagesTable>;
export type RoomMemberRow = Selectable<RoomMembersTable>;

/** A browser that takes Web Push for its user: where to send, and the keys to encrypt for it. */
export interface PushSubscriptionsTable {
  endpoint: string;
  user_id: string;
  session_id_hash: string | null;
  p256dh: string;
  auth: string;
  created_at: number;
  last_success_at: number | null;
}

/** The server's VAPID key pair (id `vapid`), when the configuration gives none. */
export interface PushKeysTable {
  id: string;
  public_key: string;
  private_key: string;
  created_at: number;
}

export type PushSubscriptionRow = Selectable<PushSubscriptionsTable>;
export type EmailPreference = 'off' | 'offline';

/** A user's notification choices (no row: the defaults). `push` is 0 or 1. */
export interface NotificationPreferencesTable {
  user_id: string;
  email: Generated<EmailPreference>;
  quiet_minutes: Generated<number>;
  push: Generated<number>;
  unsubscribe_key: string | null;
  updated_at: number;
}

/** Per room and recipient: the last notification e-mail about that room, and its reminder. */
export interface NotificationStateTable {
  room_id: string;
  user_id: string;
  mailed_at: number | null;
  mailed_seq: Generated<number>;
  mail_event_id: string | null;
  reminded_at: number | null;
  updated_at: number;
}
