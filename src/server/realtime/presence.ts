import type { Logger } from 'pino';
import type { Bus, BusEvent } from '../../bus/bus.js';
import { presenceFor, type PresenceStore } from '../../bus/presence-store.js';
import type { PresenceStatus } from '../../shared/events.js';
import type { Connection } from './connection.js';
import type { Hub } from './hub.js';

/**
 * Who is online, for the people who share a room with them. Connections are counted in
 * the presence store (across processes when Redis is on): a user's first connection
 * anywhere announces `online`, the last one leaving `offline`; `away` is per connection.
 */
export class Presence {
  /** Counts of live connections per user, across processes. */
  private readonly counts: PresenceStore;
  /** Last status heard from any process, per user: the latest word for snapshots. */
  private readonly known = new Map<string, PresenceStatus>();

  constructor(
    private readonly hub: Hub,
    private readonly bus: Bus,
    private readonly log: Logger,
    counts?: PresenceStore,
  ) {
    this.counts = counts ?? presenceFor(bus, { log });
  }

  /** Counts the connection, announces the user if they just came online, and tells it who of its contacts is. */
  async join(conn: Connection): Promise<void> {
    conn.joined = true;
    try {
      const total = await this.counts.connect(conn.userId);
      if (total === 1 || this.known.get(conn.userId) !== 'online')
        this.announce(conn.userId, 'online', conn.contacts);
      for (const [userId, n] of await this.counts.counts([...conn.contacts])) {
        if (n > 0) this.hub.emit(conn, { type: 'presence', userId, status: this.statusOf(userId) });
      }
    } catch (err) {
      this.log.warn({ err }, 'could not count a connection for presence');
    }
  }

  /** The user's last connection anywhere going away announces `offline` to its contacts. */
  async leave(conn: Connection): Promise<void> {
    conn.joined = false;
    try {
      const total = await this.counts.disconnect(conn.userId);
      if (total === 0) this.announce(conn.userId, 'offline', conn.contacts);
      else if (this.localStatus(conn.userId) === 'away')
        this.announce(conn.userId, 'away', conn.contacts);
    } catch (err) {
      this.log.warn({ err }, 'could not count a closed connection for presence');
    }
  }

  /** The client's tab was hidden or shown. */
  setStatus(conn: Connection, status: 'online' | 'away'): void {
    conn.status = status;
    this.announce(conn.userId, this.localStatus(conn.userId), conn.contacts);
  }

  /** A new contact (a room just opened): their presence now, as a fresh connection would get it. */
  async introduce(conn: Connection, userId: string): Promise<void> {
    if (conn.contacts.has(userId)) return;
    conn.contacts.add(userId);
    const [n] = (await this.counts.counts([userId])).values();
    if (n) this.hub.emit(conn, { type: 'presence', userId, status: this.statusOf(userId) });
  }

  /** Whether the user has a live connection in any process (for notifying the offline). */
  async isOnline(userId: string): Promise<boolean> {
    const [n] = (await this.counts.counts([userId])).values();
    return (n ?? 0) > 0;
  }

  /** Every process hears every presence change. */
  heard(e: Extract<BusEvent, { t: 'presence' }>): void {
    if (e.status === 'offline') this.known.delete(e.userId);
    else this.known.set(e.userId, e.status);
    this.hub.broadcast(e.userIds, { type: 'presence', userId: e.userId, status: e.status }, (c) =>
      c.contacts.has(e.userId),
    );
  }

  private statusOf(userId: string): PresenceStatus {
    return this.known.get(userId) ?? 'online';
  }

  /** This process's view of a user: online while any of its connections here is. */
  private localStatus(userId: string): PresenceStatus {
    const conns = this.hub.connectionsOf(userId);
    if (conns.length === 0) return 'offline';
    return conns.some((c) => c.status === 'online') ? 'online' : 'away';
  }

  private announce(userId: string, status: PresenceStatus, contacts: Iterable<string>): void {
    if (this.known.get(userId) === status) return;
    this.bus.publish({ t: 'presence', userId, status, userIds: [...contacts] });
  }
}
