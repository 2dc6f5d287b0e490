import { v7 as timeOrderedUuid } from 'uuid';
import type { AttachmentRow, MessageRow } from '../store/schema.js';
import type { Store } from '../store/store.js';
import type { AuditEntry } from '../store/audit-repository.js';
import type { RoomAdvance } from '../store/send-batch-writes.js';
import type { RoomForSend } from '../store/room-repository.js';
import type { MessageWire } from '../shared/wire.js';
import { auditEntry, type Ctx } from './context.js';
import type { Deps } from './deps.js';
import { AppError, notFound } from './errors.js';
import { GroupCommit } from './group-commit.js';
import type { DomainEvent } from './events/events.js';
import { presentMessage } from './message-presenter.js';
import { can } from './access/policy.js';
import { closedTitle, roomState, roomSubject } from './room-lifecycle.js';
import { presentAttachment } from './attachments/present.js';

export interface SendResult {
  message: MessageWire;
  /** false when the client id was seen before: the original message is returned. */
  created: boolean;
}

interface Pending {
  ctx: Ctx;
  roomId: string;
  clientId: string;
  body: string;
  /** Uploads the message carries: the sender's own, in this room, not yet on a message. */
  attachmentIds: readonly string[];
  resolve: (r: SendResult) => void;
  reject: (e: unknown) => void;
}

type Outcome = { ok: true; row: MessageRow; created: boolean } | { ok: false; error: AppError };

const MAX_BATCH = 1000;

/**
 * Writes messages with group commit (group-commit.ts): sends that arrive together are
 * written in ONE transaction and acknowledged after it commits. One commit (one fsync)
 * per batch instead of per message is what lets a durable store keep up with the network.
 */
export class MessageWriter {
  private readonly queue: GroupCommit<Pending>;

  constructor(private readonly deps: Deps) {
    this.queue = new GroupCommit((batch) => this.commit(batch), MAX_BATCH);
  }

  submit(
    ctx: Ctx,
    roomId: string,
    clientId: string,
    body: string,
    attachmentIds: readonly string[] = [],
  ): Promise<SendResult> {
    return new Promise<SendResult>((resolve, reject) => {
      this.queue.push({ ctx, roomId, clientId, body, attachmentIds, resolve, reject });
    });
  }

  /** Resolves once every send submitted so far is committed or has failed. */
  drain(): Promise<void> {
    return this.queue.drain();
  }

  private async commit(batch: Pending[]): Promise<void> {
    const now = this.deps.clock.now();
    // Transport time, not the domain clock: this is what the commit cost.
    const started = performance.now();
    const outcomes = await this.deps.store.transaction((tx) => this.write(tx, batch, now));
    this.deps.telemetry.messagesCommitted(
      batch.length,
      outcomes.results.filter((o) => o.ok && o.created).length,
      performance.now() - started,
    );
    // Each committed message is presented once: the same object acks the sender and is pushed.
    const fresh = new Map<string, MessageWire[]>();
    batch.forEach((p, i) => {
      const o = outcomes.results[i]!;
      if (!o.ok) return p.reject(o.error);
      const message = presentMessage(o.row);
      p.resolve({ message, created: o.created });
      if (o.created) {
        const list = fresh.get(message.roomId) ?? [];
        list.push(message);
        fresh.set(message.roomId, list);
      }
    });
    // Push in the same turn as the commit: the rows in hand are exactly what was stored.
    for (const [roomId, messages] of fresh) {
      const members = outcomes.members.get(roomId)!;
      this.deps.bus.publish({
        t: 'messages',
        roomId,
        seq: messages[messages.length - 1]!.seq,
        userIds: members,
        messages,
      });
      for (const userId of new Set(messages.map((m) => members.find((u) => u !== m.senderId)!))) {
        this.deps.bus.publish({ t: 'unread', userId });
      }
    }
  }

  private async write(
    store: Store,
    batch: Pending[],
    now: number,
  ): Promise<{ results: Outcome[]; members: Map<string, string[]> }> {
    // One batch holds many senders, and its rooms must be locked together in id order, so
    // the writer locks as the system and decides each send with the policy below.
    // Nothing below reads a write's row count: on the SQLite writer thread, the batch's
    // writes go with its commit instead of crossing to the thread one by one.
    store.pipelineWrites();
    const tx = store.system();
    // Locks first, then the idempotency lookup: on PostgreSQL a concurrent sender of the
    // same client id in this room has committed by the time we hold the room's lock. On
    // the SQLite writer thread the reads (and the audit chain's version check) cross to
    // the thread together with the begin: one hop where Kysely would take three.
    const [locked, found] = await store.readTogether(
      tx.rooms.prepareLockForSend([...new Set(batch.map((p) => p.roomId))].sort()),
      tx.messages.prepareFindByClientIds(
        batch.map((p) => ({ senderId: p.ctx.actor.id, clientId: p.clientId })),
      ),
      tx.audit.prepareChainVersion(),
    );
    const rooms = new Map(locked.map((r) => [r.id, { ...r }]));
    const existing = new Map<string, MessageRow>(
      found.map((m) => [`${m.sender_id}:${m.client_id}`, m]),
    );
    // Read after the room locks, so no concurrent send in the room can claim the same upload;
    // one statement for every send in the batch that carries uploads.
    const carrying = batch.filter(
      (p) => p.attachmentIds.length > 0 && !existing.has(`${p.ctx.actor.id}:${p.clientId}`),
    );
    const attachable = new Map<Pending, Map<string, AttachmentRow>>();
    if (carrying.length > 0) {
      const found = await tx.attachments.findAttachable(
        carrying.map((p) => ({
          ids: p.attachmentIds,
          roomId: p.roomId,
          uploaderId: p.ctx.actor.id,
        })),
      );
      carrying.forEach((p, i) => attachable.set(p, new Map(found[i]!.map((a) => [a.id, a]))));
    }
    const claimed = new Set<string>();
    const attaching: { ids: string[]; messageId: string }[] = [];
    const rows: MessageRow[] = [];
    const audit: AuditEntry[] = [];
    const touched = new Set<string>();
    const results = batch.map((p): Outcome => {
      const room = rooms.get(p.roomId);
      const senderId = p.ctx.actor.id;
      const subject = room ? roomSubject(room, now) : undefined;
      if (!room || !subject || !can(p.ctx.actor, 'room.read', subject))
        return { ok: false, error: notFound('Room') };
      const key = `${senderId}:${p.clientId}`;
      const seen = existing.get(key);
      if (seen) {
        if (seen.room_id !== p.roomId) {
          return {
            ok: false,
            error: new AppError(
              'client_id_conflict',
              'This message id was already used for another conversation',
            ),
          };
        }
        return { ok: true, row: seen, created: false };
      }
      // After the idempotency lookup: a message committed before the room closed still
      // gets its ack when the client retries.
      if (!can(p.ctx.actor, 'room.write', subject)) {
        const reason = roomState(room, now).closedReason ?? 'expired';
        return { ok: false, error: new AppError('room_closed', closedTitle[reason]) };
      }
      const carried = p.attachmentIds.map((id) => attachable.get(p)?.get(id));
      if (carried.some((a) => a === undefined || claimed.has(a.id))) {
        return { ok: false, error: notFound('Attachment') };
      }
      for (const a of carried) claimed.add(a!.id);
      room.last_seq += 1;
      const row: MessageRow = {
        // Time-ordered (UUIDv7, 74 random bits): a batch's ids land side by side at the end
        // of the primary key's index instead of one page each at random (0010-lean-indexes).
        id: timeOrderedUuid(),
        room_id: p.roomId,
        seq: room.last_seq,
        sender_id: senderId,
        client_id: p.clientId,
        body: p.body,
        created_at: now,
        edited_at: null,
        deleted_at: null,
        attachments:
          carried.length > 0 ? JSON.stringify(carried.map((a) => presentAttachment(a!))) : null,
      };
      if (carried.length > 0) attaching.push({ ids: carried.map((a) => a!.id), messageId: row.id });
      existing.set(key, row);
      rows.push(row);
      touched.add(p.roomId);
      audit.push(
        auditEntry(
          p.ctx,
          now,
          'message.send',
          { type: 'room', id: p.roomId },
          {
            seq: row.seq,
            messageId: row.id,
            ...(carried.length > 0 ? { attachmentIds: carried.map((a) => a!.id).join(',') } : {}),
          },
        ),
      );
      return { ok: true, row, created: true };
    });
    // Messages each member received in this batch: counted in the same statement that
    // advances the room.
    const received = new Map<string, { patient: number; practitioner: number }>();
    for (const row of rows) {
      const room = rooms.get(row.room_id)!;
      const counts = received.get(row.room_id) ?? { patient: 0, practitioner: 0 };
      if (row.sender_id === room.patient_id) counts.practitioner += 1;
      else counts.patient += 1;
      received.set(row.room_id, counts);
    }
    const advances: RoomAdvance[] = [...touched].map((id) => {
      const room = rooms.get(id)!;
      return { room, lastSeq: room.last_seq, received: received.get(id)! };
    });
    const events = committedEvents(rows, rooms);
    if (store.dialect === 'postgres') {
      // node-postgres waits for each statement's answer before it sends the next, so every
      // write is sent in one statement (store/send-batch-writes.ts): 7 round trips a batch
      // instead of 12. The chain's lock and head read stay statements of their own, after
      // the idempotency lookup; every existing row written after that lock (rooms, their
      // members, claimed uploads) was locked before it (rooms.prepareLockForSend,
      // attachments.findAttachable), so the chain's lock is the last this batch waits for.
      if (rows.length > 0) {
        const staged = this.deps.outbox.stage(store, now, events);
        await tx.sendBatches.write({
          messages: rows,
          attaching,
          rooms: advances,
          audit: await tx.audit.chainRows(audit),
          events: staged.events,
          deliveries: staged.deliveries,
          at: now,
        });
      }
    } else {
      // The writes do not depend on one another's answers. Kysely runs a transaction's
      // statements one at a time in the order issued (uploads are claimed after their
      // message exists); on the SQLite writer thread they are pipelined (above) and cross
      // with the commit. Any failure rolls the whole batch back.
      await Promise.all([
        tx.messages.insertMany(rows).then(async () => {
          for (const a of attaching) await tx.attachments.attach(a.ids, a.messageId, now);
        }),
        tx.rooms.advanceMany(advances, now),
        tx.audit.recordMany(audit),
        this.deps.outbox.emit(store, now, events),
      ]);
    }
    const members = new Map(
      [...rooms.values()].map((r) => [r.id, [r.patient_id, r.practitioner_id]]),
    );
    return { results, members };
  }
}

/** One `messages.committed` event per room and sender in a batch: ids and seqs, never bodies. */
function committedEvents(
  rows: readonly MessageRow[],
  rooms: ReadonlyMap<string, RoomForSend>,
): DomainEvent[] {
  const bySender = new Map<string, Extract<DomainEvent, { type: 'messages.committed' }>>();
  for (const row of rows) {
    const key = `${row.room_id}:${row.sender_id}`;
    const seen = bySender.get(key);
    if (seen) {
      seen.lastSeq = row.seq;
      seen.count += 1;
      continue;
    }
    const room = rooms.get(row.room_id)!;
    const toPatient = row.sender_id !== room.patient_id;
    bySender.set(key, {
      type: 'messages.committed',
      roomId: row.room_id,
      senderId: row.sender_id,
      recipientId: toPatient ? room.patient_id : room.practitioner_id,
      firstSeq: row.seq,
      lastSeq: row.seq,
      count: 1,
      recipientPush: toPatient ? room.patient_push : room.practitioner_push,
    });
  }
  return [...bySender.values()];
}
