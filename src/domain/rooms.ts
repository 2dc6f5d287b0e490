import type { RoomListRow } from '../store/room-repository.js';
import type { RoomRow } from '../store/schema.js';
import type { AdminRoomWire, PractitionerWire, RoomWire, UnreadWire } from '../shared/wire.js';
import { iso } from './clock.js';
import type { AuditAction } from '../shared/audit-actions.js';
import { auditEntry, type Ctx } from './context.js';
import type { Deps } from './deps.js';
import { AppError, notFound, validationFailed } from './errors.js';
import { can, PRACTICE, require } from './access/policy.js';
import { reopenedUntil, roomState, roomSubject } from './room-lifecycle.js';
import { parseWorkingHours, photoUrl, presentPerson } from './presenters.js';

const PREVIEW_LENGTH = 140;

/**
 * A message's first characters on one line: whitespace runs become one space, and past
 * PREVIEW_LENGTH characters (code points, as the string iterator counts them) the text is
 * cut to one fewer and ends in an ellipsis. Counted in place rather than spread into an
 * array of characters and joined again: 5–7 µs for a 200-character body instead of
 * 11–14 µs, about 0.3 ms of a 50-room list (see ARCHITECTURE, "The room list").
 */
export function preview(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  // A code point is one or two UTF-16 units: a string this short cannot be too long.
  if (flat.length <= PREVIEW_LENGTH) return flat;
  let points = 0;
  let cut = 0;
  for (let i = 0; i < flat.length; points++) {
    if (points === PREVIEW_LENGTH - 1) cut = i;
    else if (points === PREVIEW_LENGTH) return `${flat.slice(0, cut)}…`;
    // Past U+FFFF only for a whole surrogate pair, which the string iterator takes as one.
    i += flat.codePointAt(i)! > 0xffff ? 2 : 1;
  }
  return flat;
}

/** A room leaves its member's list when archived and comes back with the next message. */
export const isArchived = (archivedAt: number | null, lastActivityAt: number): boolean =>
  archivedAt !== null && archivedAt >= lastActivityAt;

export class RoomService {
  constructor(private readonly deps: Deps) {}

  /** The room, if the caller is one of its two participants; otherwise not found. */
  async requireParticipant(ctx: Ctx, roomId: string): Promise<RoomRow> {
    const room = await this.deps.store.for(ctx).rooms.find(roomId);
    if (!room) throw notFound('Conversation');
    require(ctx.actor, 'room.read', roomSubject(room, this.deps.clock.now()));
    return room;
  }

  async list(ctx: Ctx): Promise<RoomWire[]> {
    const rows = await this.deps.store.for(ctx).rooms.list();
    const rooms = this.present(ctx, rows);
    await this.auditPreviews(ctx, rooms, 'room.list', ctx.actor.id, 'user');
    return rooms;
  }

  async get(ctx: Ctx, roomId: string): Promise<RoomWire> {
    const rows = await this.deps.store.for(ctx).rooms.list(roomId);
    if (rows.length === 0) throw notFound('Conversation');
    const rooms = this.present(ctx, rows);
    await this.auditPreviews(ctx, rooms, 'room.view', roomId, 'room');
    return rooms[0]!;
  }

  /** A last-message preview is message text: showing one is a read of health information. */
  private async auditPreviews(
    ctx: Ctx,
    rooms: RoomWire[],
    action: AuditAction,
    targetId: string,
    targetType: string,
  ): Promise<void> {
    const shown = rooms.filter((r) => r.lastMessage !== null).length;
    if (shown === 0) return;
    await this.deps.readAudit.record(
      auditEntry(
        ctx,
        this.deps.clock.now(),
        action,
        { type: targetType, id: targetId },
        { previews: shown },
      ),
    );
  }

  /**
   * A patient starts (or comes back to) a chat with a practitioner: the newest open room
   * between them. No open room (no accepted appointment, or all of them closed), no chat.
   */
  async startChat(ctx: Ctx, practitionerId: string): Promise<RoomWire> {
    require(ctx.actor, 'room.start', PRACTICE);
    const room = await this.deps.store
      .for(ctx)
      .rooms.newestOpenWith(practitionerId, this.deps.clock.now());
    if (!room) {
      throw new AppError(
        'appointment_not_accepted',
        'You can message a practitioner while an appointment they accepted is open for messages',
      );
    }
    const member = await this.deps.store.for(ctx).rooms.membership(room.id);
    if (member && isArchived(member.archived_at, room.last_activity_at))
      await this.setArchived(ctx, room.id, false);
    return this.get(ctx, room.id);
  }

  async setArchived(ctx: Ctx, roomId: string, archived: boolean): Promise<RoomWire> {
    const room = await this.requireParticipant(ctx, roomId);
    require(ctx.actor, 'room.archive', roomSubject(room, this.deps.clock.now()));
    const now = this.deps.clock.now();
    await this.deps.store.transaction(async (tx) => {
      await tx.for(ctx).rooms.setArchived(roomId, archived ? now : null);
      await tx.audit.record(
        auditEntry(ctx, now, archived ? 'room.archive' : 'room.unarchive', {
          type: 'room',
          id: roomId,
        }),
      );
      await this.deps.outbox.emit(tx, now, [
        { type: 'room.archived', roomId, userId: ctx.actor.id, archived },
      ]);
    });
    this.deps.bus.publish({ t: 'room', roomId, userIds: [ctx.actor.id] });
    this.deps.bus.publish({ t: 'unread', userId: ctx.actor.id });
    return this.get(ctx, roomId);
  }

  /**
   * The practitioner opens a closed conversation again, for a full window from now (or
   * until its own time, if that is later). Audited; both participants hear of it.
   */
  async reopen(ctx: Ctx, roomId: string): Promise<RoomWire> {
    const { clock, roomOpenMs } = this.deps;
    const now = clock.now();
    const room = await this.deps.store.transaction(async (tx) => {
      const room = await tx.for(ctx).rooms.find(roomId);
      if (!room) throw notFound('Conversation');
      const subject = roomSubject(room, now);
      if (subject.status === 'open')
        throw new AppError('conflict', 'This conversation is already open');
      require(ctx.actor, 'room.reopen', subject);
      const was = roomState(room, now).closedReason;
      await tx.system().rooms.reopen(roomId, reopenedUntil(room, now, roomOpenMs));
      await this.deps.outbox.emit(tx, now, [
        { type: 'room.reopened', roomId, byUserId: ctx.actor.id },
      ]);
      // Last: on PostgreSQL the audit chain's lock is the last one a transaction takes.
      await tx.audit.record(
        auditEntry(ctx, now, 'room.reopen', { type: 'room', id: roomId }, { was: was ?? null }),
      );
      return room;
    });
    this.deps.bus.publish({
      t: 'room',
      roomId,
      userIds: [room.patient_id, room.practitioner_id],
    });
    return this.get(ctx, roomId);
  }

  /** Moves the caller's read mark forward (never back, never past the last message). */
  async markRead(ctx: Ctx, roomId: string, seq: number): Promise<number> {
    if (!Number.isInteger(seq) || seq < 0)
      throw validationFailed('seq must be a whole number', 'seq');
    const room = await this.requireParticipant(ctx, roomId);
    const target = Math.min(seq, room.last_seq);
    const mine = this.deps.store.for(ctx).rooms;
    const before = await mine.membership(roomId);
    const readSeq = await mine.advanceRead(roomId, target);
    if (before && readSeq > before.read_seq) {
      const userIds = [room.patient_id, room.practitioner_id];
      this.deps.bus.publish({
        t: 'receipt',
        roomId,
        userId: ctx.actor.id,
        kind: 'read',
        seq: readSeq,
        userIds,
      });
      this.deps.bus.publish({ t: 'unread', userId: ctx.actor.id });
    }
    return readSeq;
  }

  async unread(ctx: Ctx): Promise<UnreadWire> {
    return unreadFor(this.deps, ctx);
  }

  /** Practitioners a caller may see; for a patient, `canChat` marks those with an accepted appointment. */
  async practitioners(ctx: Ctx): Promise<PractitionerWire[]> {
    const store = this.deps.store;
    // The caller's own open rooms as a patient: nobody else has any to chat in.
    const [all, chattable] = await Promise.all([
      store.users.list({ role: 'practitioner' }),
      store.for(ctx).rooms.openPractitionerIds(this.deps.clock.now()),
    ]);
    const can = new Set(chattable);
    return all
      .filter((u) => u.disabled_at === null)
      .map((u) => ({
        id: u.id,
        name: u.name,
        specialty: u.specialty,
        photoUrl: photoUrl(u),
        canChat: can.has(u.id),
        workingHours: parseWorkingHours(u.working_hours),
        outOfOffice: u.out_of_office,
      }));
  }

  /**
   * Rooms' metadata for an admin: who, which appointment, how many messages, when.
   * Never message bodies; reading a conversation is not part of normal administration.
   */
  async adminList(ctx: Ctx, page: { limit: number; offset: number }): Promise<AdminRoomWire[]> {
    require(ctx.actor, 'rooms.metadata', PRACTICE);
    const store = this.deps.store.system();
    const rooms = await store.rooms.listAll(page.limit, page.offset);
    const [users, appointments] = await Promise.all([
      store.users.findManyByIds([
        ...new Set(rooms.flatMap((r) => [r.patient_id, r.practitioner_id])),
      ]),
      store.appointments.findManyByIds(rooms.map((r) => r.appointment_id)),
    ]);
    const userById = new Map(users.map((u) => [u.id, u]));
    const apptById = new Map(appointments.map((a) => [a.id, a]));
    // Metadata only, but it says who sees whom: the admin's look is recorded like any other.
    await this.deps.readAudit.record(
      auditEntry(
        ctx,
        this.deps.clock.now(),
        'room.admin_list',
        { type: 'room', id: null },
        { count: rooms.length, offset: page.offset },
      ),
    );
    const now = this.deps.clock.now();
    return rooms.map((r) => {
      const a = apptById.get(r.appointment_id);
      return {
        id: r.id,
        ...roomState(r, now),
        appointmentId: r.appointment_id,
        appointmentStatus: a?.status ?? null,
        appointmentStartsAt: a ? iso(a.starts_at) : null,
        patient: presentPerson(userById.get(r.patient_id)!),
        practitioner: presentPerson(userById.get(r.practitioner_id)!),
        messageCount: r.last_seq,
        lastActivityAt: iso(r.last_activity_at),
        createdAt: iso(r.created_at),
      };
    });
  }

  /**
   * Presents list rows for the caller; everything a room shows came in its row, so no
   * further queries. `permissions` tells the web app what the caller may do here, so it
   * does not re-derive the rules.
   */
  private present(ctx: Ctx, rows: readonly RoomListRow[]): RoomWire[] {
    const now = this.deps.clock.now();
    return rows.map((r) => {
      const archived = isArchived(r.archived_at, r.last_activity_at);
      const state = roomState(r, now);
      const subject = roomSubject(r, now);
      return {
        id: r.id,
        status: state.status,
        closedReason: state.closedReason,
        permissions: {
          write: can(ctx.actor, 'room.write', subject),
          export: can(ctx.actor, 'room.export', subject),
          archive: can(ctx.actor, 'room.archive', subject),
          reopen: can(ctx.actor, 'room.reopen', subject),
        },
        appointmentId: r.appointment_id,
        appointment: {
          id: r.appointment_id,
          startsAt: iso(r.appointment_starts_at),
          status: r.appointment_status,
          reason: r.appointment_reason,
        },
        patient: presentPerson({
          id: r.patient_id,
          role: 'patient',
          name: r.patient_name,
          photo_file_id: r.patient_photo,
          specialty: null,
          date_of_birth: r.patient_dob,
        }),
        practitioner: presentPerson({
          id: r.practitioner_id,
          role: 'practitioner',
          name: r.practitioner_name,
          photo_file_id: r.practitioner_photo,
          specialty: r.practitioner_specialty,
          date_of_birth: null,
        }),
        lastSeq: r.last_seq,
        lastMessage:
          r.last_message_id !== null
            ? {
                id: r.last_message_id,
                seq: r.last_seq,
                senderId: r.last_sender_id!,
                preview:
                  r.last_deleted_at !== null ? 'Message deleted' : preview(r.last_body ?? ''),
                createdAt: iso(r.last_created_at!),
                deleted: r.last_deleted_at !== null,
              }
            : null,
        lastActivityAt: iso(r.last_activity_at),
        // The same counters and archive rule as unreadForUsers, read from this row.
        unreadCount: archived ? 0 : Math.max(0, r.received_count - r.read_received),
        readSeq: r.read_seq,
        otherReadSeq: r.other_read_seq,
        otherDeliveredSeq: r.other_delivered_seq,
        archived,
      };
    });
  }
}

/** The caller's unread counts; archived rooms count nothing until a new message brings them back. */
export async function unreadFor(deps: Pick<Deps, 'store'>, ctx: Ctx): Promise<UnreadWire> {
  return unreadWire(await deps.store.for(ctx).rooms.unread());
}

/**
 * The same for many users in one query: the gateway's coalesced badge updates, driven by
 * the bus rather than by one caller. Counts only, never content, so it reads as the system.
 */
export async function unreadForMany(
  deps: Pick<Deps, 'store'>,
  userIds: readonly string[],
): Promise<Map<string, UnreadWire>> {
  const byUser = await deps.store.system().rooms.unreadForUsers(userIds);
  return new Map(userIds.map((userId) => [userId, unreadWire(byUser.get(userId))]));
}

function unreadWire(counts: Map<string, number> | undefined): UnreadWire {
  let total = 0;
  const rooms: Record<string, number> = {};
  for (const [roomId, n] of counts ?? []) {
    rooms[roomId] = n;
    total += n;
  }
  return { total, rooms };
}
