import type { MessageWire } from '../../shared/wire.js';
import { auditEntry, type Actor, type Ctx } from '../context.js';
import type { DeliveryRecorder } from '../delivery.js';
import type { Deps } from '../deps.js';
import { notFound, validationFailed } from '../errors.js';
import { presentMessage } from '../message-presenter.js';

export const PAGE_MAX = 200;

export interface PageQuery {
  after?: number | undefined;
  before?: number | undefined;
  limit?: number | undefined;
}

export interface MessagePage {
  messages: MessageWire[];
  hasMore: boolean;
}

declare const checked: unique symbol;

/**
 * A room the feed has found the caller taking part in. Only the feed makes these, so a
 * holder of one has passed the participant check; live connections keep them for their
 * lifetime instead of asking again for every wake-up.
 */
export interface FeedRoom {
  readonly id: string;
  /** Both participants: everyone who may hear of the room. */
  readonly userIds: readonly string[];
  /** The room's last seq when it was checked. */
  readonly lastSeq: number;
  /** Whom it was checked for: later reads of it go through that caller's scoped store. */
  readonly reader: Pick<Actor, 'id' | 'role'>;
  readonly [checked]: true;
}

/** How a replay reached its reader, recorded with the audit row. */
export type ReplayVia = 'ws' | 'sse';

/**
 * The one way message text leaves the store: the HTTP history and the live connections'
 * replays both read it here, with the participant check, paging by seq, the presenter and
 * the read's audit row in one place. (Live messages pushed after they are written are
 * covered by each message's own `message.send` row.)
 */
export class MessageFeed {
  constructor(
    private readonly deps: Deps,
    private readonly deliveries: DeliveryRecorder,
  ) {}

  /** The caller's rooms: the query itself is bounded to the caller, so each is checked. */
  async rooms(ctx: Ctx): Promise<FeedRoom[]> {
    const rows = await this.deps.store.for(ctx).rooms.mine();
    return rows.map((r) => room(ctx, r.id, [r.patient_id, r.practitioner_id], r.last_seq));
  }

  /** One room, if the caller takes part in it. */
  async room(ctx: Ctx, roomId: string): Promise<FeedRoom | undefined> {
    const r = await this.deps.store.for(ctx).rooms.find(roomId);
    return r ? room(ctx, r.id, [r.patient_id, r.practitioner_id], r.last_seq) : undefined;
  }

  /** A page of history, audited as a read; marks what the caller now has as delivered. */
  async page(ctx: Ctx, roomId: string, q: PageQuery): Promise<MessagePage> {
    if (q.after !== undefined && q.before !== undefined)
      throw validationFailed('Use either after or before, not both', 'after');
    const checked = await this.room(ctx, roomId);
    if (!checked) throw notFound('Conversation');
    const limit = Math.min(q.limit ?? 50, PAGE_MAX);
    const rows = await this.deps.store.for(ctx).messages.page(roomId, {
      after: q.after,
      before: q.before,
      limit: limit + 1,
    });
    // One extra row tells whether there is more in the direction of travel.
    const hasMore = rows.length > limit;
    let page = rows;
    if (hasMore) page = q.after !== undefined ? rows.slice(0, limit) : rows.slice(1);
    await this.deps.readAudit.record(
      auditEntry(
        ctx,
        this.deps.clock.now(),
        'room.read_messages',
        { type: 'room', id: roomId },
        {
          count: page.length,
          ...(q.after !== undefined ? { after: q.after } : {}),
          ...(q.before !== undefined ? { before: q.before } : {}),
        },
      ),
    );
    const fromOther = page.filter((m) => m.sender_id !== ctx.actor.id);
    if (fromOther.length > 0)
      this.deliveries.note(roomId, ctx.actor.id, fromOther[fromOther.length - 1]!.seq, [
        ...checked.userIds,
      ]);
    return { messages: page.map(presentMessage), hasMore };
  }

  /**
   * History a reconnecting client missed: every message after `after` up to `upTo`, in
   * one read with one audit row naming the seq range, stored before the caller sends any
   * of it. (Seqs have no gaps, so the range is exactly `upTo - after` rows.)
   */
  async replay(
    ctx: Ctx,
    room: FeedRoom,
    range: { after: number; upTo: number },
    via: ReplayVia,
  ): Promise<MessageWire[]> {
    if (range.upTo <= range.after) return [];
    const rows = await this.scoped(room).messages.page(room.id, {
      after: range.after,
      limit: range.upTo - range.after,
    });
    if (rows.length === 0) return [];
    await this.deps.readAudit.record(
      auditEntry(
        ctx,
        this.deps.clock.now(),
        'room.read_messages',
        { type: 'room', id: room.id },
        {
          via,
          fromSeq: rows[0]!.seq,
          toSeq: rows[rows.length - 1]!.seq,
          count: rows.length,
        },
      ),
    );
    return rows.map(presentMessage);
  }

  /**
   * Messages written after `after` that a live connection was woken for but does not hold
   * (another process wrote them, or the room is new to it). Delivering a message as it
   * is written is covered by its `message.send` row, so this read writes none.
   */
  async follow(room: FeedRoom, after: number, limit: number): Promise<MessageWire[]> {
    const rows = await this.scoped(room).messages.page(room.id, { after, limit });
    return rows.map(presentMessage);
  }

  /**
   * One message of a checked room, pushed again after it changed (an edit, a deletion; the
   * change writes its own audit row); undefined when it is not in that room.
   */
  async message(room: FeedRoom, messageId: string): Promise<MessageWire | undefined> {
    const row = await this.scoped(room).messages.find(messageId);
    return row && row.room_id === room.id ? presentMessage(row) : undefined;
  }

  private scoped(room: FeedRoom) {
    return this.deps.store.for({ actor: room.reader });
  }
}

const room = (ctx: Ctx, id: string, userIds: string[], lastSeq: number): FeedRoom =>
  ({
    id,
    userIds,
    lastSeq,
    reader: { id: ctx.actor.id, role: ctx.actor.role },
  }) as unknown as FeedRoom;
