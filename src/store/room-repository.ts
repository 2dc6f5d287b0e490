import { sql, type CompiledQuery, type ExpressionBuilder, type Kysely } from 'kysely';
import type { Dialect } from './database.js';
import type { Read } from './read.js';
import type { AppointmentStatus, DB, RoomClosedReason, RoomMemberRow, RoomRow } from './schema.js';

/** What a send batch needs of each room it writes to, read under its lock. */
export type RoomForSend = Pick<
  RoomRow,
  'id' | 'last_seq' | 'patient_id' | 'practitioner_id' | 'open_until' | 'closed_reason'
> & {
  /** Whether each member has a Web Push subscription (a device to announce messages to). */
  patient_push: boolean;
  practitioner_push: boolean;
};

/** A room as its member lists it: marks, counters, both people, the appointment, the last message. */
export interface RoomListRow extends RoomRow {
  read_seq: number;
  delivered_seq: number;
  archived_at: number | null;
  received_count: number;
  read_received: number;
  other_read_seq: number;
  other_delivered_seq: number;
  patient_name: string;
  patient_photo: string | null;
  patient_dob: string | null;
  practitioner_name: string;
  practitioner_photo: string | null;
  practitioner_specialty: string | null;
  appointment_starts_at: number;
  appointment_status: AppointmentStatus;
  appointment_reason: string;
  last_body: string | null;
  last_sender_id: string | null;
  last_created_at: number | null;
  last_deleted_at: number | null;
  last_message_id: string | null;
}

// Stand-ins for the caller's values in the room list's query, compiled once.
const LIST_USER = '\u0000list-user';
const LIST_ROOM = '\u0000list-room';
/** The SQL depends only on the dialect and the shape, not on the connection or transaction. */
const compiledLists = new Map<string, CompiledQuery<RoomListRow>>();

export class RoomRepository {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly dialect: Dialect,
  ) {}

  async insert(room: RoomRow): Promise<void> {
    await this.db.insertInto('rooms').values(room).execute();
    await this.db
      .insertInto('room_members')
      .values(
        [room.patient_id, room.practitioner_id].map((user_id) => ({
          room_id: room.id,
          user_id,
          read_seq: 0,
          delivered_seq: 0,
          archived_at: null,
        })),
      )
      .execute();
  }

  findById(id: string): Promise<RoomRow | undefined> {
    return this.db.selectFrom('rooms').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The room, only when `userId` is one of its two participants: the single door to a room's contents. */
  findForParticipant(id: string, userId: string): Promise<RoomRow | undefined> {
    return this.db
      .selectFrom('rooms')
      .selectAll()
      .where('id', '=', id)
      .where((eb) => eb.or([eb('patient_id', '=', userId), eb('practitioner_id', '=', userId)]))
      .executeTakeFirst();
  }

  findManyByAppointments(ids: readonly string[]): Promise<RoomRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('rooms').selectAll().where('appointment_id', 'in', ids).execute();
  }

  /** The newest room between a patient and a practitioner that is still open at `now`. */
  newestOpenBetween(
    patientId: string,
    practitionerId: string,
    now: number,
  ): Promise<RoomRow | undefined> {
    return this.db
      .selectFrom('rooms')
      .innerJoin('appointments', 'appointments.id', 'rooms.appointment_id')
      .selectAll('rooms')
      .where('rooms.patient_id', '=', patientId)
      .where('rooms.practitioner_id', '=', practitionerId)
      .where('rooms.closed_reason', 'is', null)
      .where('rooms.open_until', '>', now)
      .orderBy('appointments.starts_at', 'desc')
      .orderBy('rooms.created_at', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  /** Practitioners a patient has an open room with at `now`: the ones they may write to. */
  async openPractitionerIds(patientId: string, now: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('rooms')
      .select('practitioner_id')
      .distinct()
      .where('patient_id', '=', patientId)
      .where('closed_reason', 'is', null)
      .where('open_until', '>', now)
      .execute();
    return rows.map((r) => r.practitioner_id);
  }

  /** Closes the rooms of an appointment that is no longer going ahead; answers the rooms closed. */
  closeForAppointment(
    appointmentId: string,
    reason: RoomClosedReason,
    at: number,
  ): Promise<Pick<RoomRow, 'id' | 'patient_id' | 'practitioner_id'>[]> {
    return this.db
      .updateTable('rooms')
      .set({ closed_reason: reason, closed_at: at })
      .where('appointment_id', '=', appointmentId)
      .where('closed_reason', 'is', null)
      .returning(['id', 'patient_id', 'practitioner_id'])
      .execute();
  }

  /** Opens a closed room again until `openUntil`. */
  async reopen(roomId: string, openUntil: number): Promise<void> {
    await this.db
      .updateTable('rooms')
      .set({ closed_reason: null, closed_at: null, open_until: openUntil })
      .where('id', '=', roomId)
      .execute();
  }

  /**
   * Locks the rooms for a send batch and returns them, as a read to run beside the batch's
   * others (`Store.readTogether`). On PostgreSQL the row lock makes
   * sequence allocation safe across processes; rows are locked in id order so two
   * batches touching the same rooms cannot deadlock. The rooms' member rows are locked
   * with them (the batch advances their counters): every row the batch writes is locked
   * before the audit chain's lock, which must be the last a transaction takes. Otherwise
   * a batch holding the chain's lock could wait for a member row held by, say, an archive
   * that is itself waiting for the chain. SQLite has one writer at a time.
   */
  prepareLockForSend(ids: readonly string[]): Read<RoomForSend[]> {
    // Whether each member has a push subscription rides along (an index lookup each), so
    // the batch writes a Web Push delivery only where there is a device to announce to.
    const hasPush = (
      eb: ExpressionBuilder<DB, 'rooms'>,
      member: 'rooms.patient_id' | 'rooms.practitioner_id',
    ) =>
      eb.exists(
        eb
          .selectFrom('push_subscriptions as ps')
          .select('ps.user_id')
          .whereRef('ps.user_id', '=', member),
      );
    const columns = (eb: ExpressionBuilder<DB, 'rooms'>) =>
      [
        'rooms.id',
        'rooms.last_seq',
        'rooms.patient_id',
        'rooms.practitioner_id',
        'rooms.open_until',
        'rooms.closed_reason',
        hasPush(eb, 'rooms.patient_id').as('patient_push'),
        hasPush(eb, 'rooms.practitioner_id').as('practitioner_push'),
      ] as const;
    // SQLite answers 0/1 for a boolean expression; the rows are this read's own.
    const decode = (r: RoomForSend): RoomForSend => {
      r.patient_push = Boolean(r.patient_push);
      r.practitioner_push = Boolean(r.practitioner_push);
      return r;
    };
    if (this.dialect !== 'postgres') {
      const q = this.db.selectFrom('rooms').select(columns).where('id', 'in', ids);
      return {
        statements: [q.compile()],
        decode: ([rows]) => (rows as RoomForSend[]).map(decode),
      };
    }
    const q = this.db
      .selectFrom('rooms')
      .innerJoin('room_members', 'room_members.room_id', 'rooms.id')
      .select(columns)
      .where('rooms.id', 'in', ids)
      .orderBy('rooms.id')
      .orderBy('room_members.user_id')
      // Named, so the subscription lookups above take no lock.
      .forUpdate(['rooms', 'room_members']);
    return {
      statements: [q.compile()],
      decode: ([found]) => {
        const rows = found as RoomForSend[];
        // One row a member: the room once.
        return rows.filter((r, i) => i === 0 || rows[i - 1]!.id !== r.id).map(decode);
      },
    };
  }

  /**
   * Records a batch's new messages, inside the send transaction: each room's last seq and
   * activity in ONE statement, and both members' received counters of every room in a
   * second one (`UPDATE … FROM (VALUES …)`, both stores), so a batch over many rooms costs
   * two statements instead of two per room (on PostgreSQL: two round trips, not 2 × rooms).
   * The archive flag is cleared rather than compared by time: a message in the archive's
   * millisecond, or from a process whose clock runs behind, must still bring the room back.
   */
  async advanceMany(
    items: readonly {
      room: Pick<RoomRow, 'id' | 'patient_id' | 'practitioner_id'>;
      lastSeq: number;
      received: { patient: number; practitioner: number };
    }[],
    at: number,
  ): Promise<void> {
    // Three parameters a member row: 300 rooms (1,800 parameters) a statement at most.
    for (let i = 0; i < items.length; i += 300) {
      const chunk = items.slice(i, i + 300);
      // VALUES columns are column1, column2, … in both stores; the casts type PostgreSQL's
      // otherwise untyped parameters.
      const seqs = sql.join(chunk.map((r) => sql`(${r.room.id}, cast(${r.lastSeq} as integer))`));
      await sql`update rooms set last_seq = v.column2, last_activity_at = ${at}
        from (values ${seqs}) as v where rooms.id = v.column1`.execute(this.db);
      const counts = sql.join(
        chunk.flatMap((r) => [
          sql`(${r.room.id}, ${r.room.patient_id}, cast(${r.received.patient} as integer))`,
          sql`(${r.room.id}, ${r.room.practitioner_id}, cast(${r.received.practitioner} as integer))`,
        ]),
      );
      await sql`update room_members set received_count = received_count + v.column3,
        archived_at = null from (values ${counts}) as v
        where room_members.room_id = v.column1 and room_members.user_id = v.column2`.execute(
        this.db,
      );
    }
  }

  member(roomId: string, userId: string): Promise<RoomMemberRow | undefined> {
    return this.db
      .selectFrom('room_members')
      .selectAll()
      .where('room_id', '=', roomId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
  }

  members(roomId: string): Promise<RoomMemberRow[]> {
    return this.db.selectFrom('room_members').selectAll().where('room_id', '=', roomId).execute();
  }

  /** Moves a read or delivered mark forward only; returns the mark now stored. */
  async advanceMark(
    roomId: string,
    userId: string,
    column: 'read_seq' | 'delivered_seq',
    seq: number,
  ): Promise<number> {
    if (column === 'read_seq') {
      // One statement: SET sees the old read_seq, so the newly read messages from the
      // other participant are counted exactly once, whoever else marks at the same time.
      await this.db
        .updateTable('room_members')
        .set((eb) => ({
          read_received: eb(
            'read_received',
            '+',
            eb
              .selectFrom('messages as m')
              .select(eb.fn.countAll<number>().as('n'))
              .whereRef('m.room_id', '=', 'room_members.room_id')
              .whereRef('m.sender_id', '<>', 'room_members.user_id')
              .whereRef('m.seq', '>', 'room_members.read_seq')
              .where('m.seq', '<=', seq),
          ),
          read_seq: seq,
        }))
        .where('room_id', '=', roomId)
        .where('user_id', '=', userId)
        .where('read_seq', '<', seq)
        .execute();
    }
    // Reading implies delivery.
    await this.db
      .updateTable('room_members')
      .set('delivered_seq', seq)
      .where('room_id', '=', roomId)
      .where('user_id', '=', userId)
      .where('delivered_seq', '<', seq)
      .execute();
    const row = await this.member(roomId, userId);
    return row ? row[column] : 0;
  }

  async setArchived(roomId: string, userId: string, at: number | null): Promise<void> {
    await this.db
      .updateTable('room_members')
      .set({ archived_at: at })
      .where('room_id', '=', roomId)
      .where('user_id', '=', userId)
      .execute();
  }

  /** Rooms a user takes part in, with both participants and the last seq: what a live connection subscribes to. */
  roomsOfUser(
    userId: string,
  ): Promise<Pick<RoomRow, 'id' | 'patient_id' | 'practitioner_id' | 'last_seq'>[]> {
    return this.db
      .selectFrom('rooms')
      .select(['id', 'patient_id', 'practitioner_id', 'last_seq'])
      .where((eb) => eb.or([eb('patient_id', '=', userId), eb('practitioner_id', '=', userId)]))
      .execute();
  }

  /** The caller's rooms with their last message and marks, newest activity first, in one query. */
  listForUser(userId: string, roomId?: string): Promise<RoomListRow[]> {
    // Built once per dialect and shape, then run with this caller's values: building the
    // seven-table query through Kysely's builder cost more than a tenth of a millisecond
    // a request (see ARCHITECTURE, "The room list").
    const one = Boolean(roomId);
    const key = `${this.dialect}:${one ? 'one' : 'all'}`;
    let compiled = compiledLists.get(key);
    if (!compiled) compiledLists.set(key, (compiled = this.buildList(one).compile()));
    const parameters = compiled.parameters.map((p) =>
      p === LIST_USER ? userId : p === LIST_ROOM ? roomId : p,
    );
    return this.db
      .executeQuery<RoomListRow>({ ...compiled, parameters })
      .then((result) => result.rows);
  }

  private buildList(one: boolean) {
    // One query for the whole list: its cost does not grow with the number of rooms'
    // round trips, only with the rows themselves.
    const q = this.db
      .selectFrom('room_members as rm')
      .innerJoin('rooms as r', 'r.id', 'rm.room_id')
      // The other member's row by its whole key (a room has exactly two members): one
      // lookup, where `om.user_id <> rm.user_id` walked the room's member rows.
      .innerJoin('room_members as om', (j) =>
        j
          .onRef('om.room_id', '=', 'r.id')
          .on((eb) =>
            eb(
              'om.user_id',
              '=',
              eb
                .case()
                .when('r.patient_id', '=', eb.ref('rm.user_id'))
                .then(eb.ref('r.practitioner_id'))
                .else(eb.ref('r.patient_id'))
                .end(),
            ),
          ),
      )
      .innerJoin('users as pu', 'pu.id', 'r.patient_id')
      .innerJoin('users as du', 'du.id', 'r.practitioner_id')
      .innerJoin('appointments as a', 'a.id', 'r.appointment_id')
      .leftJoin('messages as m', (j) =>
        j.onRef('m.room_id', '=', 'r.id').onRef('m.seq', '=', 'r.last_seq'),
      )
      .selectAll('r')
      .select([
        'rm.read_seq',
        'rm.delivered_seq',
        'rm.archived_at',
        'rm.received_count',
        'rm.read_received',
        'om.read_seq as other_read_seq',
        'om.delivered_seq as other_delivered_seq',
        'pu.name as patient_name',
        'pu.photo_file_id as patient_photo',
        'pu.date_of_birth as patient_dob',
        'du.name as practitioner_name',
        'du.photo_file_id as practitioner_photo',
        'du.specialty as practitioner_specialty',
        'a.starts_at as appointment_starts_at',
        'a.status as appointment_status',
        'a.reason as appointment_reason',
        'm.id as last_message_id',
        'm.body as last_body',
        'm.sender_id as last_sender_id',
        'm.created_at as last_created_at',
        'm.deleted_at as last_deleted_at',
      ])
      .where('rm.user_id', '=', LIST_USER)
      .orderBy('r.last_activity_at', 'desc')
      .orderBy('r.id');
    return (one ? q.where('rm.room_id', '=', LIST_ROOM) : q).$castTo<RoomListRow>();
  }

  /**
   * Unread per room: the other participant's messages after the caller's read mark,
   * read from the membership counters. An archived room counts nothing until a new
   * message brings it back.
   */
  async unreadForUser(userId: string, roomId?: string): Promise<Map<string, number>> {
    const byUser = await this.unreadForUsers([userId], roomId);
    return byUser.get(userId) ?? new Map<string, number>();
  }

  /** The same for many users in one query (the gateway's coalesced unread updates). */
  async unreadForUsers(
    userIds: readonly string[],
    roomId?: string,
  ): Promise<Map<string, Map<string, number>>> {
    const out = new Map<string, Map<string, number>>();
    if (userIds.length === 0) return out;
    let q = this.db
      .selectFrom('room_members as rm')
      .innerJoin('rooms as r', 'r.id', 'rm.room_id')
      .select(['rm.user_id', 'rm.room_id', 'rm.received_count', 'rm.read_received'])
      .where('rm.user_id', 'in', userIds)
      .whereRef('rm.received_count', '>', 'rm.read_received')
      .where((eb) =>
        eb.or([
          eb('rm.archived_at', 'is', null),
          eb('rm.archived_at', '<', eb.ref('r.last_activity_at')),
        ]),
      );
    if (roomId) q = q.where('rm.room_id', '=', roomId);
    for (const r of await q.execute()) {
      let rooms = out.get(r.user_id);
      if (!rooms) out.set(r.user_id, (rooms = new Map<string, number>()));
      rooms.set(r.room_id, Number(r.received_count) - Number(r.read_received));
    }
    return out;
  }

  /** Moves delivered marks forward; answers the ones that moved (no read first). */
  async advanceDelivered(
    items: readonly { roomId: string; userId: string; seq: number }[],
  ): Promise<{ roomId: string; userId: string; seq: number }[]> {
    // One statement per 300 marks instead of one per mark (3,600 a knee run): only marks
    // that move come back.
    const moved: { roomId: string; userId: string; seq: number }[] = [];
    for (let i = 0; i < items.length; i += 300) {
      const chunk = items.slice(i, i + 300);
      const values = sql.join(
        chunk.map((m) => sql`(${m.roomId}, ${m.userId}, cast(${m.seq} as integer))`),
      );
      // On PostgreSQL a send batch in another process updates the same member rows in an
      // order of its own, and two multi-row updates meeting in opposite orders deadlock
      // (each side then waits a second for the detector). A delivered mark may simply skip
      // rows that a send holds: that send's own delivery records a newer mark right after.
      const skipLocked =
        this.dialect === 'postgres'
          ? sql`and (room_members.room_id, room_members.user_id) in (
              select room_id, user_id from room_members
              where (room_id, user_id) in (values ${sql.join(chunk.map((m) => sql`(${m.roomId}, ${m.userId})`))})
              for update skip locked)`
          : sql``;
      const { rows } = await sql<{ room_id: string; user_id: string; delivered_seq: number }>`
        update room_members set delivered_seq = v.column3 from (values ${values}) as v
        where room_members.room_id = v.column1 and room_members.user_id = v.column2
          and room_members.delivered_seq < v.column3 ${skipLocked}
        returning room_members.room_id, room_members.user_id, room_members.delivered_seq`.execute(
        this.db,
      );
      for (const r of rows)
        moved.push({ roomId: r.room_id, userId: r.user_id, seq: Number(r.delivered_seq) });
    }
    return moved;
  }

  listAll(limit: number, offset: number): Promise<RoomRow[]> {
    return this.db
      .selectFrom('rooms')
      .selectAll()
      .orderBy('last_activity_at', 'desc')
      .limit(limit)
      .offset(offset)
      .execute();
  }
}
