import type { Logger } from 'pino';
import type { BusEvent } from '../../bus/bus.js';
import { presenceFor, type PresenceStore } from '../../bus/presence-store.js';
import type { Authenticated } from '../../domain/auth.js';
import { AppError } from '../../domain/errors.js';
import { presentMessage } from '../../domain/message-presenter.js';
import { unreadForMany } from '../../domain/rooms.js';
import {
  CloseCode,
  RESUME_LIMIT,
  TYPING_EXPIRES_MS,
  type ClientCommand,
  type PresenceStatus,
  type ServerEvent,
} from '../../shared/events.js';
import type { MessageWire } from '../../shared/wire.js';
import type { Services } from '../services.js';
import { Connection, type Sink } from './connection.js';

export interface GatewayOptions {
  heartbeatMs: number;
  /** A connection whose unsent frames exceed this is too slow and is closed (4408). */
  maxBufferedBytes: number;
  /** How long a connection may stay over maxBufferedBytes (a burst) before it counts as too slow. */
  slowGraceMs: number;
  rate: { perSecond: number; burst: number };
  /** How long a connection waits for `resume` before it goes live from "now". */
  resumeGraceMs: number;
}

export const defaultGatewayOptions: GatewayOptions = {
  heartbeatMs: 25_000,
  maxBufferedBytes: 512 * 1024,
  slowGraceMs: 5000,
  rate: { perSecond: 50, burst: 200 },
  resumeGraceMs: 1000,
};

const FILL_PAGE = 500;

/**
 * The real-time gateway: every live connection of this process, fed by bus wake-ups.
 * Message delivery always goes through a connection's per-room cursor: rows committed in
 * this process are pushed straight from memory when they follow the cursor; anything
 * else (another process's wake-up, a gap, a resume) is read from the store by seq.
 */
export class Gateway {
  private readonly byUser = new Map<string, Set<Connection>>();
  private readonly typing = new Map<string, { timer: NodeJS.Timeout; userIds: string[] }>();
  private readonly unreadDue = new Set<string>();
  private unreadTimer: NodeJS.Timeout | undefined;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly unsubscribe: () => void;
  private nextId = 1;
  private readonly log: Logger;
  private readonly presence: PresenceStore;
  /** Last presence status heard from any process, per user. */
  private readonly known = new Map<string, PresenceStatus>();

  constructor(
    private readonly services: Services,
    private readonly opts: GatewayOptions = defaultGatewayOptions,
  ) {
    this.log = services.log.child({ part: 'gateway' });
    this.presence = presenceFor(services.bus, { log: this.log });
    this.unsubscribe = services.bus.subscribe((event) => this.onBus(event));
    this.heartbeat = setInterval(() => void this.tick(), opts.heartbeatMs);
    this.heartbeat.unref();
  }

  get connectionCount(): number {
    let n = 0;
    for (const set of this.byUser.values()) n += set.size;
    return n;
  }

  /**
   * Registers a connection. `resume` given: replay after those cursors now (SSE with
   * Last-Event-ID); otherwise wait briefly for the client's own `resume` frame.
   */
  async open(
    sink: Sink,
    auth: Authenticated,
    ip: string | null,
    resume?: Record<string, number>,
  ): Promise<Connection> {
    const { store, clock } = this.services;
    const conn = new Connection(String(this.nextId++), sink, auth, ip, clock.now(), this.opts.rate);
    // Registered before the rooms are read, so no wake-up can fall between the two.
    this.register(conn);
    try {
      if (auth.user.role !== 'admin') {
        for (const r of await store.rooms.roomsOfUser(conn.userId)) {
          conn.rooms.set(r.id, { userIds: [r.patient_id, r.practitioner_id] });
          conn.baseline.set(r.id, r.last_seq);
          conn.contacts.add(r.patient_id === conn.userId ? r.practitioner_id : r.patient_id);
        }
      }
      await this.services.deps.readAudit.record({
        at: clock.now(),
        actorId: conn.userId,
        actorRole: auth.user.role,
        action: 'realtime.connect',
        targetType: 'session',
        targetId: auth.session.id_hash.slice(0, 12),
        ip,
        detail: { transport: sink.kind, rooms: conn.rooms.size },
      });
    } catch (err) {
      this.close(conn);
      throw err;
    }
    if (conn.closed) return conn;
    this.send(conn, { type: 'hello', userId: conn.userId, heartbeatMs: this.opts.heartbeatMs });
    await this.join(conn);
    if (conn.closed) return conn;
    this.unreadDue.add(conn.userId);
    this.scheduleUnread();
    if (resume) await this.resume(conn, resume);
    else conn.resumeTimer = setTimeout(() => void this.resume(conn, {}), this.opts.resumeGraceMs);
    return conn;
  }

  close(conn: Connection): void {
    if (conn.closed && !this.byUser.get(conn.userId)?.has(conn)) return;
    conn.closed = true;
    if (conn.resumeTimer) clearTimeout(conn.resumeTimer);
    const set = this.byUser.get(conn.userId);
    set?.delete(conn);
    if (set && set.size === 0) {
      this.byUser.delete(conn.userId);
      for (const [key, t] of this.typing) {
        if (key.endsWith(`:${conn.userId}`))
          this.setTyping(conn.userId, key.slice(0, key.indexOf(':')), false, t.userIds);
      }
    }
    if (conn.joined) void this.leave(conn);
  }

  /** Ends a connection with a close code, telling the client why first where the code is about the session. */
  terminate(conn: Connection, code: number, reason: string): void {
    if (conn.closed) return;
    if (code === CloseCode.unauthenticated) this.send(conn, { type: 'session.ended', reason });
    this.close(conn);
    conn.sink.close(code, reason);
  }

  async command(conn: Connection, cmd: ClientCommand): Promise<void> {
    const now = this.services.clock.now();
    if (!conn.takeToken(now)) {
      this.terminate(conn, CloseCode.rateLimited, 'Too many commands');
      return;
    }
    // Only what a person does keeps the session alive: automatic pings, presence and
    // resumes from an unattended tab must not defeat the idle timeout.
    if (cmd.type === 'send' || cmd.type === 'read' || cmd.type === 'typing')
      conn.lastActivity = now;
    // A command right behind the client's own resume waits for that one instead of starting another.
    if (cmd.type !== 'resume' && !conn.resumed) await (conn.resuming ?? this.resume(conn, {}));
    switch (cmd.type) {
      case 'resume':
        return this.resume(conn, cmd.rooms);
      case 'send': {
        conn.inflight.add(cmd.clientId.toLowerCase());
        try {
          const { message } = await this.services.messages.send(conn.ctx, cmd.roomId, cmd);
          // A new message was acked by delivery in the commit's turn; a repeat is acked here.
          if (conn.inflight.delete(message.clientId))
            this.send(conn, { type: 'ack', clientId: cmd.clientId, message });
        } catch (err) {
          conn.inflight.delete(cmd.clientId.toLowerCase());
          this.sendError(conn, err, cmd.clientId);
        }
        return;
      }
      case 'read':
        try {
          await this.services.rooms.markRead(conn.ctx, cmd.roomId, cmd.seq);
        } catch (err) {
          this.sendError(conn, err);
        }
        return;
      case 'typing':
        if (!conn.rooms.has(cmd.roomId))
          return this.sendError(conn, new AppError('not_found', 'Conversation not found'));
        this.setTyping(conn.userId, cmd.roomId, cmd.typing, conn.rooms.get(cmd.roomId)!.userIds);
        return;
      case 'presence':
        conn.status = cmd.status;
        this.publishPresence(conn.userId, this.localStatus(conn.userId), conn.contacts);
        return;
      case 'ping':
        return;
    }
  }

  /** Typing from the HTTP fallback: the same rules as the WebSocket command. */
  async typingFromHttp(
    auth: Authenticated,
    ip: string | null,
    roomId: string,
    typing: boolean,
  ): Promise<void> {
    const room = await this.services.rooms.requireParticipant(
      { actor: { id: auth.user.id, role: auth.user.role, name: auth.user.name }, ip },
      roomId,
    );
    this.setTyping(auth.user.id, roomId, typing, [room.patient_id, room.practitioner_id]);
  }

  async shutdown(): Promise<void> {
    clearInterval(this.heartbeat);
    if (this.unreadTimer) clearTimeout(this.unreadTimer);
    for (const t of this.typing.values()) clearTimeout(t.timer);
    this.unsubscribe();
    for (const set of [...this.byUser.values()])
      for (const conn of [...set]) this.terminate(conn, 1001, 'Server is restarting');
    await Promise.resolve();
  }

  // ---------------------------------------------------------------- delivery

  private register(conn: Connection): void {
    let set = this.byUser.get(conn.userId);
    if (!set) this.byUser.set(conn.userId, (set = new Set()));
    set.add(conn);
  }

  /** One resume at a time per connection; the latest one in flight is what commands wait for. */
  private resume(conn: Connection, rooms: Record<string, number>): Promise<void> {
    const run = this.replay(conn, rooms).finally(() => {
      if (conn.resuming === run) conn.resuming = undefined;
    });
    conn.resuming = run;
    return run;
  }

  /** Sets each room's cursor (client's word for rooms it names, "now" for the rest) and replays what was missed. */
  private async replay(conn: Connection, rooms: Record<string, number>): Promise<void> {
    if (conn.resumeTimer) clearTimeout(conn.resumeTimer);
    conn.resumeTimer = undefined;
    const latest = new Map(
      (await this.services.store.rooms.roomsOfUser(conn.userId)).map((r) => [r.id, r.last_seq]),
    );
    if (conn.closed) return;
    const truncated: string[] = [];
    for (const roomId of conn.rooms.keys()) {
      const last = latest.get(roomId) ?? 0;
      const claimed = rooms[roomId];
      // Rooms the client does not name start from where they stood when it connected.
      let cursor =
        claimed === undefined ? (conn.baseline.get(roomId) ?? last) : Math.min(claimed, last);
      if (last - cursor > RESUME_LIMIT) {
        truncated.push(roomId);
        cursor = last;
      }
      conn.cursors.set(roomId, cursor);
    }
    conn.resumed = true;
    await Promise.all(
      [...conn.rooms.keys()].map((roomId) => this.fill(conn, roomId, latest.get(roomId) ?? 0)),
    );
    if (conn.closed) return;
    this.send(conn, {
      type: 'resumed',
      rooms: Object.fromEntries(conn.cursors),
      ...(truncated.length ? { truncated } : {}),
    });
  }

  private deliverMessages(
    roomId: string,
    seq: number,
    userIds: string[],
    known?: MessageWire[],
  ): void {
    const cache = new Map<string, string>();
    for (const userId of userIds) {
      const set = this.byUser.get(userId);
      if (!set) continue;
      for (const conn of set) {
        // Authorization on every delivery: only connections of the room's participants hold it.
        if (!conn.rooms.has(roomId) || conn.closed) continue;
        this.pump(conn, roomId, seq, known, cache);
      }
    }
  }

  private pump(
    conn: Connection,
    roomId: string,
    upTo: number,
    known: MessageWire[] | undefined,
    cache: Map<string, string>,
  ): void {
    if (!conn.resumed) return; // resume will read from the store
    const cursor = conn.cursors.get(roomId) ?? 0;
    if (upTo <= cursor) return;
    if (conn.busy.has(roomId)) {
      conn.busy.set(roomId, Math.max(conn.busy.get(roomId)!, upTo));
      return;
    }
    const first = known?.[0];
    const last = known?.[known.length - 1];
    if (known && first && last && first.seq <= cursor + 1 && last.seq >= upTo) {
      for (const m of known)
        if (m.seq > (conn.cursors.get(roomId) ?? 0)) this.emitMessage(conn, m, cache);
      return;
    }
    void this.fill(conn, roomId, upTo);
  }

  /** Reads from the store everything after the connection's cursor, in order; one reader per room at a time. */
  private async fill(conn: Connection, roomId: string, upTo: number): Promise<void> {
    if (conn.busy.has(roomId)) {
      conn.busy.set(roomId, Math.max(conn.busy.get(roomId)!, upTo));
      return;
    }
    if ((conn.cursors.get(roomId) ?? 0) >= upTo) return;
    conn.busy.set(roomId, upTo);
    const cache = new Map<string, string>();
    try {
      for (;;) {
        const cursor = conn.cursors.get(roomId) ?? 0;
        const rows = await this.services.store.messages.page(roomId, {
          after: cursor,
          limit: FILL_PAGE,
        });
        if (conn.closed) return;
        for (const r of rows) this.emitMessage(conn, presentMessage(r), cache);
        const want = conn.busy.get(roomId) ?? 0;
        if (
          rows.length === 0 ||
          (rows.length < FILL_PAGE && (conn.cursors.get(roomId) ?? 0) >= want)
        )
          break;
      }
    } catch (err) {
      this.log.warn(
        { err, roomId },
        'could not read messages for a connection; it will catch up on resume',
      );
    } finally {
      conn.busy.delete(roomId);
    }
  }

  private emitMessage(conn: Connection, m: MessageWire, cache: Map<string, string>): void {
    let json = cache.get(m.id);
    if (json === undefined) cache.set(m.id, (json = JSON.stringify(m)));
    conn.cursors.set(m.roomId, m.seq);
    this.write(conn, conn.frameFor(m, json), true);
    if (m.senderId !== conn.userId) {
      this.services.messages.deliveries.note(
        m.roomId,
        conn.userId,
        m.seq,
        conn.rooms.get(m.roomId)!.userIds,
      );
    }
  }

  private send(conn: Connection, event: ServerEvent): void {
    this.write(conn, JSON.stringify(event), false);
  }

  private write(conn: Connection, frame: string, isMessage: boolean): void {
    if (conn.closed) return;
    const buffered = conn.sink.buffered();
    if (buffered > this.opts.maxBufferedBytes) {
      // A burst (one group commit in a busy room) may overshoot for a moment; a reader that
      // stays behind, or falls far behind, is dropped instead of growing our memory. It
      // resumes without loss on reconnect. Transport time, not the domain clock.
      const now = performance.now();
      conn.overSince ??= now;
      if (
        buffered > this.opts.maxBufferedBytes * 16 ||
        now - conn.overSince > this.opts.slowGraceMs
      ) {
        this.terminate(conn, CloseCode.tooSlow, 'Connection too slow');
        return;
      }
    } else conn.overSince = undefined;
    conn.sink.send(frame, isMessage && conn.sink.kind === 'sse' ? conn.cursorId() : undefined);
  }

  private sendError(conn: Connection, err: unknown, clientId?: string): void {
    const e =
      err instanceof AppError
        ? err
        : new AppError('internal_error', 'Something went wrong on our side');
    if (!(err instanceof AppError)) this.log.error({ err }, 'real-time command failed');
    this.send(conn, {
      type: 'error',
      ...(clientId ? { clientId } : {}),
      code: e.code,
      title: e.title,
    });
  }

  private sendToUsers(
    userIds: Iterable<string>,
    event: ServerEvent,
    filter?: (c: Connection) => boolean,
  ): void {
    const frame = JSON.stringify(event);
    for (const userId of userIds) {
      for (const conn of this.byUser.get(userId) ?? [])
        if (!filter || filter(conn)) this.write(conn, frame, false);
    }
  }

  // ---------------------------------------------------------------- bus

  private onBus(e: BusEvent): void {
    switch (e.t) {
      case 'messages':
        return this.deliverMessages(e.roomId, e.seq, e.userIds, e.messages);
      case 'message.updated':
        return void this.forward(e.userIds, e.roomId, async () => {
          const row = await this.services.store.messages.findById(e.messageId);
          return row && row.room_id === e.roomId
            ? { type: 'message.updated', message: presentMessage(row) }
            : undefined;
        });
      case 'receipt':
        return this.sendToUsers(
          e.userIds,
          { type: 'receipt', roomId: e.roomId, userId: e.userId, kind: e.kind, seq: e.seq },
          (c) => c.rooms.has(e.roomId),
        );
      case 'typing':
        return this.sendToUsers(
          e.userIds.filter((u) => u !== e.userId),
          { type: 'typing', roomId: e.roomId, userId: e.userId, typing: e.typing },
          (c) => c.rooms.has(e.roomId),
        );
      case 'presence':
        // Every process hears every presence change: the latest word for snapshots.
        if (e.status === 'offline') this.known.delete(e.userId);
        else this.known.set(e.userId, e.status);
        return this.sendToUsers(
          e.userIds,
          { type: 'presence', userId: e.userId, status: e.status },
          (c) => c.contacts.has(e.userId),
        );
      case 'unread':
        if (this.byUser.has(e.userId)) {
          this.unreadDue.add(e.userId);
          this.scheduleUnread();
        }
        return;
      case 'room':
        return void this.roomChanged(e.roomId, e.userIds);
      case 'appointment':
        return void this.forward(e.userIds, null, async (conn) => ({
          type: 'appointment',
          appointment: await this.services.appointments.get(conn.ctx, e.appointmentId),
        }));
      case 'session.ended':
        for (const conn of [...(this.byUser.get(e.userId) ?? [])]) {
          if (!e.sessionIds || e.sessionIds.includes(conn.auth.session.id_hash))
            this.terminate(conn, CloseCode.unauthenticated, e.reason);
        }
        return;
    }
  }

  /** Builds an event per user (authorized by the domain call itself) and sends it to that user's connections. */
  private async forward(
    userIds: string[],
    roomId: string | null,
    build: (conn: Connection) => Promise<ServerEvent | undefined>,
  ): Promise<void> {
    for (const userId of userIds) {
      const conns = [...(this.byUser.get(userId) ?? [])].filter(
        (c) => roomId === null || c.rooms.has(roomId),
      );
      if (conns.length === 0) continue;
      try {
        const event = await build(conns[0]!);
        if (event) for (const c of conns) this.send(c, event);
      } catch (err) {
        if (!(err instanceof AppError)) this.log.warn({ err }, 'could not build a real-time event');
      }
    }
  }

  /** A room opened or changed: re-check membership in the store before a connection may hear of it. */
  private async roomChanged(roomId: string, userIds: string[]): Promise<void> {
    for (const userId of userIds) {
      const conns = [...(this.byUser.get(userId) ?? [])];
      if (conns.length === 0) continue;
      try {
        const room = await this.services.store.rooms.findForParticipant(roomId, userId);
        if (!room) continue;
        const wire = await this.services.rooms.get(conns[0]!.ctx, roomId);
        const other = room.patient_id === userId ? room.practitioner_id : room.patient_id;
        for (const conn of conns) {
          if (!conn.rooms.has(roomId)) {
            conn.rooms.set(roomId, { userIds: [room.patient_id, room.practitioner_id] });
            // A room new to this connection is delivered from its first message.
            if (conn.resumed) conn.cursors.set(roomId, 0);
            else conn.baseline.set(roomId, 0);
          }
          this.send(conn, { type: 'room', room: wire });
          // A new contact's current presence, as a fresh connection would get it in its snapshot.
          if (!conn.contacts.has(other)) {
            conn.contacts.add(other);
            const [n] = (await this.presence.counts([other])).values();
            if (n)
              this.send(conn, {
                type: 'presence',
                userId: other,
                status: this.known.get(other) ?? 'online',
              });
          }
          if (conn.resumed) void this.fill(conn, roomId, room.last_seq);
        }
      } catch (err) {
        this.log.warn({ err, roomId }, 'could not announce a room change');
      }
    }
  }

  // ---------------------------------------------------------------- unread, typing, presence

  private scheduleUnread(): void {
    this.unreadTimer ??= setTimeout(() => void this.flushUnread(), 25);
  }

  /** Unread counts for every user woken since the last flush, in one query. */
  private async flushUnread(): Promise<void> {
    this.unreadTimer = undefined;
    const users = [...this.unreadDue].filter((u) => this.byUser.has(u));
    this.unreadDue.clear();
    if (users.length === 0) return;
    try {
      for (const [userId, unread] of await unreadForMany(this.services.deps, users)) {
        this.sendToUsers([userId], { type: 'unread', ...unread });
      }
    } catch (err) {
      this.log.warn({ err }, 'could not compute unread counts');
    }
  }

  private setTyping(userId: string, roomId: string, typing: boolean, userIds: string[]): void {
    const key = `${roomId}:${userId}`;
    const current = this.typing.get(key);
    if (current) clearTimeout(current.timer);
    if (typing) {
      // Typing expires by itself: a client that vanishes mid-sentence stops "typing".
      const timer = setTimeout(
        () => this.setTyping(userId, roomId, false, userIds),
        TYPING_EXPIRES_MS,
      );
      timer.unref();
      this.typing.set(key, { timer, userIds });
      if (current) return; // still typing: no new event, just a longer expiry
    } else {
      this.typing.delete(key);
      if (!current) return;
    }
    this.services.bus.publish({ t: 'typing', roomId, userId, typing, userIds });
  }

  /** This process's view of a user: online while any of its connections here is. */
  private localStatus(userId: string): PresenceStatus {
    const set = this.byUser.get(userId);
    if (!set || set.size === 0) return 'offline';
    for (const c of set) if (c.status === 'online') return 'online';
    return 'away';
  }

  /**
   * Counts the connection in the presence store (across processes when Redis is on):
   * the user's first connection anywhere announces `online`. Then tells this connection
   * who of its contacts is online now.
   */
  private async join(conn: Connection): Promise<void> {
    conn.joined = true;
    try {
      const total = await this.presence.connect(conn.userId);
      if (total === 1 || this.known.get(conn.userId) !== 'online') {
        this.publishPresence(conn.userId, 'online', conn.contacts);
      }
      const counts = await this.presence.counts([...conn.contacts]);
      for (const [userId, n] of counts) {
        if (n > 0)
          this.send(conn, { type: 'presence', userId, status: this.known.get(userId) ?? 'online' });
      }
    } catch (err) {
      this.log.warn({ err }, 'could not count a connection for presence');
    }
  }

  /** The user's last connection anywhere going away announces `offline` to its contacts. */
  private async leave(conn: Connection): Promise<void> {
    conn.joined = false;
    try {
      const total = await this.presence.disconnect(conn.userId);
      if (total === 0) this.publishPresence(conn.userId, 'offline', conn.contacts);
      else if (this.localStatus(conn.userId) === 'away')
        this.publishPresence(conn.userId, 'away', conn.contacts);
    } catch (err) {
      this.log.warn({ err }, 'could not count a closed connection for presence');
    }
  }

  private publishPresence(
    userId: string,
    status: PresenceStatus,
    contacts: Iterable<string>,
  ): void {
    if (this.known.get(userId) === status) return;
    this.services.bus.publish({ t: 'presence', userId, status, userIds: [...contacts] });
  }

  // ---------------------------------------------------------------- health

  /**
   * Heartbeat and session expiry: dead peers are dropped, idle or expired sessions end.
   * Activity is written back to the sessions in one transaction per tick, and the walk
   * over every connection yields now and then, so delivery never waits behind it.
   */
  private async tick(): Promise<void> {
    const now = this.services.clock.now();
    const touches = new Map<string, number>();
    const suspects: Connection[] = [];
    let walked = 0;
    for (const set of [...this.byUser.values()]) {
      for (const conn of [...set]) {
        if (conn.closed) continue;
        // Counted in heartbeats, not clock time: a clock step must not look like every peer died.
        if (conn.sink.kind === 'ws' && conn.unansweredPings >= 2) {
          this.close(conn);
          conn.sink.close(1006, 'No heartbeat');
          continue;
        }
        conn.sink.ping?.();
        conn.unansweredPings += 1;
        const s = conn.auth.session;
        if (conn.lastActivity > s.last_seen_at && now - s.last_seen_at > 60_000) {
          s.last_seen_at = conn.lastActivity;
          touches.set(s.id_hash, Math.max(touches.get(s.id_hash) ?? 0, s.last_seen_at));
        }
        if (this.services.auth.expired(s, now)) suspects.push(conn);
        if (++walked % 500 === 0) await new Promise<void>((r) => setImmediate(r));
      }
    }
    if (touches.size > 0) {
      await this.services.store.sessions
        .touchMany([...touches].map(([idHash, at]) => ({ idHash, at })))
        .catch((err: unknown) => this.log.warn({ err }, 'could not record session activity'));
    }
    for (const conn of suspects) if (!conn.closed) await this.checkSession(conn, now);
  }

  /** A session that looks expired here: ask the store (another tab may have kept it alive over HTTP), else end it. */
  private async checkSession(conn: Connection, now: number): Promise<void> {
    const s = conn.auth.session;
    const fresh = await this.services.store.sessions.findWithUser(s.id_hash).catch(() => undefined);
    if (fresh && !this.services.auth.expired(fresh.session, now)) {
      s.last_seen_at = fresh.session.last_seen_at;
      return;
    }
    await this.services.store
      .transaction(async (tx) => {
        await tx.sessions.delete(s.id_hash);
        await tx.audit.record({
          at: now,
          actorId: conn.userId,
          actorRole: conn.auth.user.role,
          action: 'auth.session_expired',
          targetType: 'session',
          targetId: s.id_hash.slice(0, 12),
          ip: null,
        });
      })
      .catch((err: unknown) => this.log.warn({ err }, 'could not end an expired session'));
    this.services.bus.publish({
      t: 'session.ended',
      userId: conn.userId,
      sessionIds: [s.id_hash],
      reason: 'expired',
    });
  }
}
