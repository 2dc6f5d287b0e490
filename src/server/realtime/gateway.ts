import type { Logger } from 'pino';
import type { BusEvent } from '../../bus/bus.js';
import type { Authenticated } from '../../domain/auth.js';
import { ConnectAudit } from '../../domain/connect-audit.js';
import { CloseCode, type ClientCommand } from '../../shared/events.js';
import type { Services } from '../services.js';
import { Commands } from './commands.js';
import { Connection, type Sink } from './connection.js';
import { Delivery } from './delivery.js';
import { Hub, type HubLimits } from './hub.js';
import { Presence } from './presence.js';
import { RoomEvents } from './room-events.js';
import { SessionWatch } from './session-watch.js';
import { Typing } from './typing.js';
import { UnreadCounts } from './unread.js';

export interface GatewayOptions extends HubLimits {
  heartbeatMs: number;
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

/**
 * The real-time gateway: every live connection of this process, fed by bus wake-ups.
 * It only wires the parts together: the hub (connections, frames, slow readers),
 * delivery (cursors, replay), presence, typing, unread counts, room events and the
 * session watch. Message text reaches it only through the domain's message feed.
 */
export class Gateway {
  private readonly log: Logger;
  private readonly hub: Hub;
  private readonly delivery: Delivery;
  private readonly presence: Presence;
  private readonly typing: Typing;
  private readonly unread: UnreadCounts;
  private readonly roomEvents: RoomEvents;
  private readonly watch: SessionWatch;
  /** `realtime.connect`, once per session. */
  private readonly connects: ConnectAudit;
  private readonly commands: Commands;
  /** Stops hearing the bus (at shutdown). */
  private readonly unsubscribe: () => void;
  /** Connection ids, for logs: unique within this process. */
  private nextId = 1;

  constructor(
    private readonly services: Services,
    private readonly opts: GatewayOptions = defaultGatewayOptions,
  ) {
    const { bus, clock } = services;
    this.log = services.log.child({ part: 'gateway' });
    this.hub = new Hub(opts, this.log, (conn) => this.close(conn));
    this.delivery = new Delivery(
      this.hub,
      services.feed,
      services.messages.deliveries,
      this.log,
      services.deps,
    );
    this.presence = new Presence(this.hub, bus, this.log, services.presence);
    this.typing = new Typing(this.hub, bus);
    this.unread = new UnreadCounts(this.hub, services.deps, this.log);
    this.roomEvents = new RoomEvents(this.hub, this.delivery, this.presence, services, this.log);
    this.connects = new ConnectAudit(services.deps);
    this.commands = new Commands(this.hub, this.delivery, this.presence, this.typing, services);
    this.watch = new SessionWatch(
      this.hub,
      services.auth,
      clock,
      this.log,
      opts.heartbeatMs,
      (c) => {
        this.close(c);
        c.sink.close(1006, 'No heartbeat');
      },
    );
    this.unsubscribe = bus.subscribe((event) => this.onBus(event));
  }

  get connectionCount(): number {
    return this.hub.connectionCount;
  }

  /** Whether the user has a live connection here or in another process. */
  isOnline(userId: string): Promise<boolean> {
    return this.presence.isOnline(userId);
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
    const { clock, feed } = this.services;
    const conn = new Connection(String(this.nextId++), sink, auth, ip, clock.now(), this.opts.rate);
    // Registered before the rooms are read, so no wake-up can fall between the two.
    this.hub.add(conn);
    this.services.deps.telemetry.connectionOpened(sink.kind);
    try {
      for (const room of await feed.rooms(conn.ctx)) {
        conn.rooms.set(room.id, room);
        conn.baseline.set(room.id, room.lastSeq);
        for (const u of room.userIds) if (u !== conn.userId) conn.contacts.add(u);
      }
      await this.connects.firstConnection(conn.ctx, auth.session.id_hash, {
        transport: sink.kind,
        rooms: conn.rooms.size,
      });
    } catch (err) {
      this.close(conn);
      throw err;
    }
    if (conn.closed) return conn;
    this.hub.emit(conn, { type: 'hello', userId: conn.userId, heartbeatMs: this.opts.heartbeatMs });
    await this.presence.join(conn);
    if (conn.closed) return conn;
    this.unread.wake(conn.userId);
    if (resume) await this.delivery.resume(conn, resume);
    else
      conn.resumeTimer = setTimeout(
        () => void this.delivery.resume(conn, {}),
        this.opts.resumeGraceMs,
      );
    return conn;
  }

  close(conn: Connection): void {
    if (conn.resumeTimer) clearTimeout(conn.resumeTimer);
    const removed = this.hub.remove(conn);
    if (!removed) return;
    this.services.deps.telemetry.connectionClosed(conn.sink.kind);
    if (removed.lastOfUser) this.typing.stopAll(conn.userId);
    if (conn.joined) void this.presence.leave(conn);
  }

  /** Ends a connection with a close code, telling the client why first where the code is about the session. */
  terminate(conn: Connection, code: number, reason: string): void {
    this.hub.terminate(conn, code, reason);
  }

  /** One parsed command from a client; rate-limited, and queued behind the connection's resume. */
  command(conn: Connection, cmd: ClientCommand): Promise<void> {
    return this.commands.handle(conn, cmd);
  }

  /** A frame that is not a valid command: it counts against the rate limit and is answered, not acted on. */
  invalidFrame(conn: Connection): void {
    this.commands.invalid(conn);
  }

  /** Typing from the HTTP fallback: the same rules as the WebSocket command. */
  typingFromHttp(
    auth: Authenticated,
    ip: string | null,
    roomId: string,
    typing: boolean,
  ): Promise<void> {
    return this.commands.typingFromHttp(auth, ip, roomId, typing);
  }

  async shutdown(): Promise<void> {
    this.watch.shutdown();
    this.unread.shutdown();
    this.typing.shutdown();
    this.unsubscribe();
    for (const conn of this.hub.all()) this.terminate(conn, 1001, 'Server is restarting');
    await Promise.resolve();
  }

  private onBus(e: BusEvent): void {
    switch (e.t) {
      case 'messages':
        return this.delivery.push(e.roomId, e.seq, e.userIds, e.messages);
      case 'message.updated':
        return void this.roomEvents.messageUpdated(e.roomId, e.messageId, e.userIds);
      case 'receipt':
        return this.hub.broadcast(
          e.userIds,
          { type: 'receipt', roomId: e.roomId, userId: e.userId, kind: e.kind, seq: e.seq },
          (c) => c.rooms.has(e.roomId),
        );
      case 'typing':
        return this.typing.heard(e);
      case 'presence':
        return this.presence.heard(e);
      case 'unread':
        return this.unread.wake(e.userId);
      case 'room':
        return void this.roomEvents.roomChanged(e.roomId, e.userIds);
      case 'appointment':
        return void this.roomEvents.appointmentChanged(e.appointmentId, e.userIds);
      case 'session.ended':
        for (const conn of this.hub.connectionsOf(e.userId)) {
          if (!e.sessionIds || e.sessionIds.includes(conn.auth.session.id_hash))
            this.terminate(conn, CloseCode.unauthenticated, e.reason);
        }
        for (const id of e.sessionIds ?? []) this.connects.forget(id);
        return;
    }
  }
}
