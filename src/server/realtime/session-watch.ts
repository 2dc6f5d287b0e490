import type { Logger } from 'pino';
import type { AuthService } from '../../domain/auth.js';
import type { Clock } from '../../domain/clock.js';
import type { Connection } from './connection.js';
import type { Hub } from './hub.js';

/** Connections walked before the walk yields to the event loop. */
const YIELD_EVERY = 500;
/** Activity is written back to a session at most this often. */
const TOUCH_EVERY_MS = 60_000;

/**
 * The heartbeat: dead peers are dropped, idle or expired sessions end. Activity on live
 * connections is written back to the sessions in one write per tick, and the walk over
 * every connection yields now and then, so delivery never waits behind it. Whether a
 * session has expired, and what ending it means, is the auth domain's.
 */
export class SessionWatch {
  /** The heartbeat's interval; unref'd, so it never keeps the process alive. */
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly hub: Hub,
    private readonly auth: AuthService,
    private readonly clock: Clock,
    private readonly log: Logger,
    heartbeatMs: number,
    /** Drops a connection without a close handshake (the gateway's `close`, then the socket). */
    private readonly drop: (conn: Connection) => void,
  ) {
    this.timer = setInterval(() => void this.tick(), heartbeatMs);
    this.timer.unref();
  }

  shutdown(): void {
    clearInterval(this.timer);
  }

  private async tick(): Promise<void> {
    const now = this.clock.now();
    const touches = new Map<string, number>();
    const suspects: Connection[] = [];
    let walked = 0;
    for (const conn of this.hub.all()) {
      if (conn.closed) continue;
      // Counted in heartbeats, not clock time: a clock step must not look like every peer died.
      if (conn.sink.kind === 'ws' && conn.unansweredPings >= 2) {
        this.drop(conn);
        continue;
      }
      conn.sink.ping?.();
      conn.unansweredPings += 1;
      const s = conn.auth.session;
      if (conn.lastActivity > s.last_seen_at && now - s.last_seen_at > TOUCH_EVERY_MS) {
        s.last_seen_at = conn.lastActivity;
        touches.set(s.id_hash, Math.max(touches.get(s.id_hash) ?? 0, s.last_seen_at));
      }
      if (this.auth.expired(s, now)) suspects.push(conn);
      if (++walked % YIELD_EVERY === 0) await new Promise<void>((r) => setImmediate(r));
    }
    if (touches.size > 0) {
      await this.auth
        .recordActivity([...touches].map(([idHash, at]) => ({ idHash, at })))
        .catch((err: unknown) => this.log.warn({ err }, 'could not record session activity'));
    }
    // Ending a session closes its connections here and everywhere through `session.ended`.
    for (const conn of suspects) {
      if (conn.closed) continue;
      await this.auth
        .stillAlive(conn.auth, now)
        .catch((err: unknown) => this.log.warn({ err }, 'could not check an expired session'));
    }
  }
}
