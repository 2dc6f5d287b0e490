import type { Logger } from 'pino';
import type { FeedRoom, MessageFeed } from '../../domain/conversations/feed.js';
import type { DeliveryRecorder } from '../../domain/delivery.js';
import type { Deps } from '../../domain/deps.js';
import { RESUME_LIMIT } from '../../shared/events.js';
import type { MessageWire } from '../../shared/wire.js';
import type { Connection } from './connection.js';
import type { Hub } from './hub.js';

/** Messages one live catch-up read takes from the store at a time. */
const FOLLOW_PAGE = 500;

/** Each message's frames, serialized once however many connections receive it. */
const frames = new WeakMap<MessageWire, { json: string; message: string }>();

function framesOf(m: MessageWire): { json: string; message: string } {
  let f = frames.get(m);
  if (!f) {
    const json = JSON.stringify(m);
    frames.set(m, (f = { json, message: `{"type":"message","message":${json}}` }));
  }
  return f;
}

/**
 * Messages to connections, always through each connection's per-room cursor: rows
 * committed in this process are pushed straight from memory when they follow the cursor;
 * anything else (another process's wake-up, a room new to the connection) is read from
 * the feed by seq, one read per room at a time. A resume replays what the client missed
 * through the feed, which audits it, before anything live flows.
 */
export class Delivery {
  constructor(
    private readonly hub: Hub,
    private readonly feed: MessageFeed,
    private readonly deliveries: DeliveryRecorder,
    private readonly log: Logger,
    /** Where delivery lag is reported, by the clock that stamped the commit. */
    private readonly deps: Pick<Deps, 'clock' | 'telemetry'>,
  ) {}

  /** One resume at a time per connection; the latest one in flight is what commands wait for. */
  resume(conn: Connection, claimed: Record<string, number>): Promise<void> {
    const run = this.replay(conn, claimed).finally(() => {
      if (conn.resuming === run) conn.resuming = undefined;
    });
    conn.resuming = run;
    return run;
  }

  /** Resolves once the connection is live: a command right behind the resume waits for it instead of starting another. */
  async ready(conn: Connection): Promise<void> {
    if (!conn.resumed) await (conn.resuming ?? this.resume(conn, {}));
  }

  /** Committed messages of a room, up to `seq`; `known` are the rows themselves when this process wrote them. */
  push(roomId: string, seq: number, userIds: readonly string[], known?: MessageWire[]): void {
    for (const userId of userIds) {
      for (const conn of this.hub.connectionsOf(userId)) {
        // Authorization on every delivery: only connections of the room's participants hold it.
        const room = conn.rooms.get(roomId);
        if (room && !conn.closed) this.pump(conn, room, seq, known);
      }
    }
  }

  /** A room just added to a live connection: deliver what it holds beyond the cursor. */
  follow(conn: Connection, room: FeedRoom): void {
    if (conn.resumed) void this.read(conn, room, room.lastSeq);
  }

  /** Sets each room's cursor (client's word for rooms it names, "now" for the rest) and replays what was missed. */
  private async replay(conn: Connection, claimed: Record<string, number>): Promise<void> {
    if (conn.resumeTimer) clearTimeout(conn.resumeTimer);
    conn.resumeTimer = undefined;
    const latest = new Map((await this.feed.rooms(conn.ctx)).map((r) => [r.id, r.lastSeq]));
    if (conn.closed) return;
    const truncated: string[] = [];
    const targets: [FeedRoom, number][] = [];
    for (const room of conn.rooms.values()) {
      const last = latest.get(room.id) ?? 0;
      const asked = claimed[room.id];
      // Rooms the client does not name start from where they stood when it connected.
      let cursor =
        asked === undefined ? (conn.baseline.get(room.id) ?? last) : Math.min(asked, last);
      if (last - cursor > RESUME_LIMIT) {
        truncated.push(room.id);
        cursor = last;
      }
      conn.cursors.set(room.id, cursor);
      targets.push([room, last]);
    }
    conn.resumed = true;
    await Promise.all(targets.map(([room, last]) => this.read(conn, room, last, true)));
    if (conn.closed) return;
    this.hub.emit(conn, {
      type: 'resumed',
      rooms: Object.fromEntries(conn.cursors),
      ...(truncated.length ? { truncated } : {}),
    });
  }

  private pump(conn: Connection, room: FeedRoom, upTo: number, known?: MessageWire[]): void {
    if (!conn.resumed) return; // resume will read from the store
    const cursor = conn.cursors.get(room.id) ?? 0;
    if (upTo <= cursor) return;
    const reading = conn.reads.get(room.id);
    if (reading) {
      reading.upTo = Math.max(reading.upTo, upTo);
      return;
    }
    const first = known?.[0];
    const last = known?.[known.length - 1];
    if (known && first && last && first.seq <= cursor + 1 && last.seq >= upTo) {
      for (const m of known) if (m.seq > (conn.cursors.get(room.id) ?? 0)) this.emit(conn, m);
      return;
    }
    void this.read(conn, room, upTo);
  }

  /**
   * Reads from the feed everything after the connection's cursor up to `upTo`, in order;
   * one read per room at a time, and wake-ups meanwhile extend it. A replay never joins a
   * read in flight: it waits for it, then reads its own range, audited as one.
   */
  private async read(
    conn: Connection,
    room: FeedRoom,
    upTo: number,
    replay = false,
  ): Promise<void> {
    for (let r = conn.reads.get(room.id); r; r = conn.reads.get(room.id)) {
      if (!replay) {
        r.upTo = Math.max(r.upTo, upTo);
        return;
      }
      await r.done;
    }
    if (conn.closed || (conn.cursors.get(room.id) ?? 0) >= upTo) return;
    const reading = { upTo, done: Promise.resolve() };
    conn.reads.set(room.id, reading);
    reading.done = this.drain(conn, room, reading, replay).finally(() => {
      if (conn.reads.get(room.id) === reading) conn.reads.delete(room.id);
    });
    return reading.done;
  }

  private async drain(
    conn: Connection,
    room: FeedRoom,
    reading: { upTo: number },
    replay: boolean,
  ): Promise<void> {
    try {
      if (replay) {
        const after = conn.cursors.get(room.id) ?? 0;
        const missed = await this.feed.replay(
          conn.ctx,
          room,
          { after, upTo: reading.upTo },
          conn.sink.kind,
        );
        if (conn.closed) return;
        for (const m of missed) this.emit(conn, m);
      }
      // Anything woken for while that read was out, or the whole of a live catch-up.
      for (;;) {
        const cursor = conn.cursors.get(room.id) ?? 0;
        if (cursor >= reading.upTo) return;
        const rows = await this.feed.follow(room, cursor, FOLLOW_PAGE);
        if (conn.closed || rows.length === 0) return;
        for (const m of rows) this.emit(conn, m);
      }
    } catch (err) {
      this.log.warn(
        { err, roomId: room.id },
        'could not read messages for a connection; it will catch up on resume',
      );
    }
  }

  private emit(conn: Connection, m: MessageWire): void {
    conn.cursors.set(m.roomId, m.seq);
    const f = framesOf(m);
    // The sender's own tab gets its ack instead of the message.
    const frame =
      m.senderId === conn.userId && conn.inflight.delete(m.clientId)
        ? `{"type":"ack","clientId":${JSON.stringify(m.clientId)},"message":${f.json}}`
        : f.message;
    this.hub.write(conn, frame, conn.sink.kind === 'sse' ? conn.cursorId() : undefined);
    // Live frames only: a replay's lag is how long the client was away.
    if (!conn.resuming)
      this.deps.telemetry.messageDelivered(
        conn.sink.kind,
        this.deps.clock.now() - Date.parse(m.createdAt),
      );
    if (m.senderId !== conn.userId)
      this.deliveries.note(m.roomId, conn.userId, m.seq, conn.rooms.get(m.roomId)!.userIds);
  }
}
