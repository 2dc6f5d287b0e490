import type { Kysely } from 'kysely';
import type { RoomListRow, RoomRepository } from './room-repository.js';
import type { DB, MessageRow, RoomMemberRow, RoomRow } from './schema.js';
import type { Caller } from './scoped.js';

/**
 * A room, only for its two participants. Every method is bound to the caller; there is no
 * way to name another user. Rows the caller is not part of are simply not there.
 */
export class ScopedRooms {
  constructor(
    private readonly rooms: RoomRepository,
    private readonly caller: Caller,
  ) {}

  find(id: string): Promise<RoomRow | undefined> {
    return this.rooms.findForParticipant(id, this.caller.id);
  }

  /** The caller's rooms as their list shows them (or one of them). */
  list(roomId?: string): Promise<RoomListRow[]> {
    return this.rooms.listForUser(this.caller.id, roomId);
  }

  /** What a live connection subscribes to. */
  mine(): Promise<Pick<RoomRow, 'id' | 'patient_id' | 'practitioner_id' | 'last_seq'>[]> {
    return this.rooms.roomsOfUser(this.caller.id);
  }

  /** The caller's newest room with a practitioner that is open at `now`, as its patient. */
  newestOpenWith(practitionerId: string, now: number): Promise<RoomRow | undefined> {
    return this.rooms.newestOpenBetween(this.caller.id, practitionerId, now);
  }

  /** Practitioners the caller (as a patient) has an open room with. */
  openPractitionerIds(now: number): Promise<string[]> {
    return this.rooms.openPractitionerIds(this.caller.id, now);
  }

  membership(roomId: string): Promise<RoomMemberRow | undefined> {
    return this.rooms.member(roomId, this.caller.id);
  }

  /** Moves the caller's own read mark forward; answers the mark now stored. */
  advanceRead(roomId: string, seq: number): Promise<number> {
    return this.rooms.advanceMark(roomId, this.caller.id, 'read_seq', seq);
  }

  setArchived(roomId: string, at: number | null): Promise<void> {
    return this.rooms.setArchived(roomId, this.caller.id, at);
  }

  unread(): Promise<Map<string, number>> {
    return this.rooms.unreadForUser(this.caller.id);
  }
}

/** Messages, only in rooms the caller takes part in. */
export class ScopedMessages {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly caller: Caller,
  ) {}

  /** Messages joined to rooms the caller is a participant of: the one filter every read here uses. */
  private visible() {
    const uid = this.caller.id;
    return this.db
      .selectFrom('messages')
      .innerJoin('rooms', 'rooms.id', 'messages.room_id')
      .selectAll('messages')
      .where((eb) =>
        eb.or([eb('rooms.patient_id', '=', uid), eb('rooms.practitioner_id', '=', uid)]),
      );
  }

  find(id: string): Promise<MessageRow | undefined> {
    return this.visible().where('messages.id', '=', id).executeTakeFirst();
  }

  /** A page of a room, always in ascending seq; empty for a room the caller is not part of. */
  async page(
    roomId: string,
    opts: { after?: number | undefined; before?: number | undefined; limit: number },
  ): Promise<MessageRow[]> {
    const q = this.visible().where('messages.room_id', '=', roomId).limit(opts.limit);
    if (opts.before !== undefined) {
      const rows = await q
        .where('messages.seq', '<', opts.before)
        .orderBy('messages.seq', 'desc')
        .execute();
      return rows.reverse();
    }
    if (opts.after !== undefined)
      return q.where('messages.seq', '>', opts.after).orderBy('messages.seq', 'asc').execute();
    // No cursor: the newest page, as a chat opens at the bottom.
    const rows = await q.orderBy('messages.seq', 'desc').execute();
    return rows.reverse();
  }

  /**
   * Newest messages written by the other participant in the caller's rooms (dashboards'
   * "recent messages"). Only each room's last few messages are considered, so the cost does
   * not grow with a room's history.
   */
  recentFromOthers(limit: number): Promise<MessageRow[]> {
    const uid = this.caller.id;
    return this.db
      .selectFrom('room_members as rm')
      .innerJoin('rooms as r', 'r.id', 'rm.room_id')
      .innerJoin('messages as m', (j) =>
        j
          .onRef('m.room_id', '=', 'r.id')
          .on((eb) => eb('m.seq', '>', eb(eb.ref('r.last_seq'), '-', limit * 4))),
      )
      .selectAll('m')
      .where('rm.user_id', '=', uid)
      .where('m.sender_id', '<>', uid)
      .orderBy('m.created_at', 'desc')
      .orderBy('m.seq', 'desc')
      .limit(limit)
      .execute();
  }
}
