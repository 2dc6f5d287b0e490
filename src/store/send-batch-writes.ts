import { sql, type Kysely } from 'kysely';
import type { AuditChainRow } from './audit-repository.js';
import type { NewDelivery, NewEvent } from './event-repository.js';
import type { DB, MessageRow, RoomRow } from './schema.js';

/** A room a send batch wrote to: its new last seq, and what each member received. */
export interface RoomAdvance {
  room: Pick<RoomRow, 'id' | 'patient_id' | 'practitioner_id'>;
  lastSeq: number;
  received: { patient: number; practitioner: number };
}

/** Everything one send batch writes, decided beforehand under the batch's locks. */
export interface SendBatch {
  messages: readonly MessageRow[];
  /** Uploads each new message carries, claimed for it. */
  attaching: readonly { ids: readonly string[]; messageId: string }[];
  rooms: readonly RoomAdvance[];
  /** Hashed by AuditRepository.chainRows, which holds the chain's lock for this transaction. */
  audit: readonly AuditChainRow[];
  events: readonly NewEvent[];
  deliveries: readonly NewDelivery[];
  at: number;
}

/**
 * A send batch's writes on PostgreSQL, in ONE statement: node-postgres waits for each
 * statement's answer before sending the next, so the separate inserts and updates cost a
 * round trip each (12 statements a batch before this, 7 now with the reads that decide the
 * batch). Sub-statements of a data-modifying WITH share one snapshot and touch different
 * rows, and foreign keys are checked when the statement ends, so an upload may name a
 * message and a delivery an event inserted beside it. Every column travels as one array
 * parameter (`unnest`), so the statement has the same 39 parameters for one message or
 * for a batch of a thousand, far from PostgreSQL's limit of 65,535. SQLite keeps its separate
 * statements: they are calls within the process, not round trips.
 */
export class SendBatchWrites {
  constructor(private readonly db: Kysely<DB>) {}

  async write(b: SendBatch): Promise<void> {
    if (!this.db.isTransaction) throw new Error('a send batch is written inside its transaction');
    const m = b.messages;
    const claims = b.attaching.flatMap((a) => a.ids.map((id) => ({ id, messageId: a.messageId })));
    const members = b.rooms.flatMap((r) => [
      { roomId: r.room.id, userId: r.room.patient_id, n: r.received.patient },
      { roomId: r.room.id, userId: r.room.practitioner_id, n: r.received.practitioner },
    ]);
    // The archive flag is cleared rather than compared by time: a message in the archive's
    // millisecond, or from a process whose clock runs behind, must still bring the room back.
    await sql`
      with new_messages as (
        insert into messages (id, room_id, seq, sender_id, client_id, body, created_at,
          edited_at, deleted_at, attachments)
        select * from unnest(${m.map((r) => r.id)}::text[], ${m.map((r) => r.room_id)}::text[],
          ${m.map((r) => r.seq)}::integer[], ${m.map((r) => r.sender_id)}::text[],
          ${m.map((r) => r.client_id)}::text[], ${m.map((r) => r.body)}::text[],
          ${m.map((r) => r.created_at)}::bigint[], ${m.map((r) => r.edited_at)}::bigint[],
          ${m.map((r) => r.deleted_at)}::bigint[], ${m.map((r) => r.attachments)}::text[])
      ), claimed as (
        update attachments set message_id = v.message_id, attached_at = ${b.at}
        from unnest(${claims.map((c) => c.id)}::text[], ${claims.map((c) => c.messageId)}::text[])
          as v(id, message_id)
        where attachments.id = v.id and attachments.message_id is null
      ), advanced as (
        update rooms set last_seq = v.last_seq, last_activity_at = ${b.at}
        from unnest(${b.rooms.map((r) => r.room.id)}::text[],
          ${b.rooms.map((r) => r.lastSeq)}::integer[]) as v(id, last_seq)
        where rooms.id = v.id
      ), received as (
        update room_members set received_count = received_count + v.n, archived_at = null
        from unnest(${members.map((r) => r.roomId)}::text[], ${members.map((r) => r.userId)}::text[],
          ${members.map((r) => r.n)}::integer[]) as v(room_id, user_id, n)
        where room_members.room_id = v.room_id and room_members.user_id = v.user_id
      ), audited as (
        insert into audit_events (id, at, actor_id, actor_role, action, target_type, target_id,
          ip, detail, prev_hash, hash)
        select * from unnest(${b.audit.map((r) => r.id)}::bigint[],
          ${b.audit.map((r) => r.at)}::bigint[], ${b.audit.map((r) => r.actor_id)}::text[],
          ${b.audit.map((r) => r.actor_role)}::text[], ${b.audit.map((r) => r.action)}::text[],
          ${b.audit.map((r) => r.target_type)}::text[], ${b.audit.map((r) => r.target_id)}::text[],
          ${b.audit.map((r) => r.ip)}::text[], ${b.audit.map((r) => r.detail)}::text[],
          ${b.audit.map((r) => r.prev_hash)}::text[], ${b.audit.map((r) => r.hash)}::text[])
      ), emitted as (
        insert into events (id, type, subject_id, payload, created_at)
        select * from unnest(${b.events.map((e) => e.id)}::text[],
          ${b.events.map((e) => e.type)}::text[], ${b.events.map((e) => e.subject_id ?? null)}::text[],
          ${b.events.map((e) => e.payload)}::text[], ${b.events.map((e) => e.created_at)}::bigint[])
      ), queued as (
        insert into event_deliveries (event_id, processor, state, attempts, next_attempt_at,
          created_at, updated_at)
        select v.event_id, v.processor, 'pending', 0, v.next_attempt_at, v.created_at, v.created_at
        from unnest(${b.deliveries.map((d) => d.event_id)}::text[],
          ${b.deliveries.map((d) => d.processor)}::text[],
          ${b.deliveries.map((d) => d.next_attempt_at)}::bigint[],
          ${b.deliveries.map((d) => d.created_at)}::bigint[])
          as v(event_id, processor, next_attempt_at, created_at)
      )
      select 1`.execute(this.db);
  }
}
