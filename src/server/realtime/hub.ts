import type { Logger } from 'pino';
import { AppError } from '../../domain/errors.js';
import { CloseCode, type ServerEvent } from '../../shared/events.js';
import type { Connection } from './connection.js';

export interface HubLimits {
  /** A connection whose unsent frames exceed this is too slow and is closed (4408). */
  maxBufferedBytes: number;
  /** How long a connection may stay over maxBufferedBytes (a burst) before it counts as too slow. */
  slowGraceMs: number;
}

/**
 * Every live connection of this process, by user, and the only place frames are written:
 * `write` for a frame already serialized, `emit` for one event to one connection,
 * `broadcast` for one event (serialized once) to many. A reader that falls behind is
 * dropped here, whatever was being written to it.
 */
export class Hub {
  /** Live connections per user; a user leaves the map with their last connection. */
  private readonly byUser = new Map<string, Set<Connection>>();

  constructor(
    private readonly limits: HubLimits,
    private readonly log: Logger,
    /** What closing a connection means beyond the hub (presence, typing): the gateway's `close`. */
    private readonly onTerminate: (conn: Connection) => void,
  ) {}

  get connectionCount(): number {
    let n = 0;
    for (const set of this.byUser.values()) n += set.size;
    return n;
  }

  add(conn: Connection): void {
    let set = this.byUser.get(conn.userId);
    if (!set) this.byUser.set(conn.userId, (set = new Set()));
    set.add(conn);
  }

  /**
   * Takes a connection out and marks it closed. Answers undefined when it was not in
   * the hub (closed before), else whether it was its user's last connection here.
   */
  remove(conn: Connection): { lastOfUser: boolean } | undefined {
    conn.closed = true;
    const set = this.byUser.get(conn.userId);
    if (!set?.delete(conn)) return undefined;
    if (set.size > 0) return { lastOfUser: false };
    this.byUser.delete(conn.userId);
    return { lastOfUser: true };
  }

  /** This user's live connections here (a snapshot: safe to close them while walking it). */
  connectionsOf(userId: string): Connection[] {
    const set = this.byUser.get(userId);
    return set ? [...set] : [];
  }

  has(userId: string): boolean {
    return this.byUser.has(userId);
  }

  /** Every live connection here, a snapshot per user, for walks that may close some. */
  *all(): Generator<Connection> {
    for (const set of [...this.byUser.values()]) for (const conn of [...set]) yield conn;
  }

  /** Queues one serialized frame; `eventId` is what an event stream resumes from. */
  write(conn: Connection, frame: string, eventId?: string): void {
    if (conn.closed) return;
    const buffered = conn.sink.buffered();
    if (buffered > this.limits.maxBufferedBytes) {
      // A burst (one group commit in a busy room) may overshoot for a moment; a reader that
      // stays behind, or falls far behind, is dropped instead of growing our memory. It
      // resumes without loss on reconnect. Transport time, not the domain clock.
      const now = performance.now();
      conn.overSince ??= now;
      if (
        buffered > this.limits.maxBufferedBytes * 16 ||
        now - conn.overSince > this.limits.slowGraceMs
      ) {
        this.terminate(conn, CloseCode.tooSlow, 'Connection too slow');
        return;
      }
    } else conn.overSince = undefined;
    conn.sink.write(frame, eventId);
  }

  emit(conn: Connection, event: ServerEvent): void {
    this.write(conn, JSON.stringify(event));
  }

  /** Tells the client a command failed: its own code and title, or a generic one for a fault of ours. */
  emitError(conn: Connection, err: unknown, clientId?: string): void {
    const e =
      err instanceof AppError
        ? err
        : new AppError('internal_error', 'Something went wrong on our side');
    if (!(err instanceof AppError)) this.log.error({ err }, 'real-time command failed');
    this.emit(conn, {
      type: 'error',
      ...(clientId ? { clientId } : {}),
      code: e.code,
      title: e.title,
    });
  }

  /** One event to these users' connections (those `filter` admits), serialized once. */
  broadcast(
    userIds: Iterable<string>,
    event: ServerEvent,
    filter?: (c: Connection) => boolean,
  ): void {
    const frame = JSON.stringify(event);
    for (const userId of userIds) {
      for (const conn of this.byUser.get(userId) ?? [])
        if (!filter || filter(conn)) this.write(conn, frame);
    }
  }

  /** Ends a connection with a close code, telling the client why first where the code is about the session. */
  terminate(conn: Connection, code: number, reason: string): void {
    if (conn.closed) return;
    if (code === CloseCode.unauthenticated) this.emit(conn, { type: 'session.ended', reason });
    this.onTerminate(conn);
    conn.sink.close(code, reason);
  }
}
