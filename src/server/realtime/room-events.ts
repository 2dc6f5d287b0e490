import type { Logger } from 'pino';
import { AppError } from '../../domain/errors.js';
import type { ServerEvent } from '../../shared/events.js';
import type { Services } from '../services.js';
import type { Connection } from './connection.js';
import type { Delivery } from './delivery.js';
import type { Hub } from './hub.js';
import type { Presence } from './presence.js';

/**
 * Events about a room or an appointment, as opposed to its messages: each is built per
 * user by a domain call made as that user, so the domain's own checks decide who hears of
 * what, and a room joins a connection only after the feed has found the user in it.
 */
export class RoomEvents {
  constructor(
    private readonly hub: Hub,
    private readonly delivery: Delivery,
    private readonly presence: Presence,
    private readonly services: Pick<Services, 'feed' | 'rooms' | 'appointments'>,
    private readonly log: Logger,
  ) {}

  /** A room opened or changed: re-checked for each user before their connections hear of it. */
  async roomChanged(roomId: string, userIds: readonly string[]): Promise<void> {
    for (const userId of userIds) {
      const conns = this.hub.connectionsOf(userId);
      if (conns.length === 0) continue;
      try {
        const ctx = conns[0]!.ctx;
        const room = await this.services.feed.room(ctx, roomId);
        if (!room) continue;
        const frame = JSON.stringify({
          type: 'room',
          room: await this.services.rooms.get(ctx, roomId),
        } satisfies ServerEvent);
        const other = room.userIds.find((u) => u !== userId);
        for (const conn of conns) {
          if (!conn.rooms.has(roomId)) {
            conn.rooms.set(roomId, room);
            // A room new to this connection is delivered from its first message.
            if (conn.resumed) conn.cursors.set(roomId, 0);
            else conn.baseline.set(roomId, 0);
          }
          this.hub.write(conn, frame);
          if (other) await this.presence.introduce(conn, other);
          this.delivery.follow(conn, room);
        }
      } catch (err) {
        this.log.warn({ err, roomId }, 'could not announce a room change');
      }
    }
  }

  /** A message changed (an edit, a deletion): re-read through the feed for the rooms that hold it. */
  messageUpdated(roomId: string, messageId: string, userIds: readonly string[]): Promise<void> {
    return this.forward(userIds, roomId, async (conn) => {
      const message = await this.services.feed.message(conn.rooms.get(roomId)!, messageId);
      return message ? { type: 'message.updated', message } : undefined;
    });
  }

  appointmentChanged(appointmentId: string, userIds: readonly string[]): Promise<void> {
    return this.forward(userIds, null, async (conn) => ({
      type: 'appointment',
      appointment: await this.services.appointments.get(conn.ctx, appointmentId),
    }));
  }

  /** Builds an event once per user (authorized by the domain call itself) for that user's connections. */
  private async forward(
    userIds: readonly string[],
    roomId: string | null,
    build: (conn: Connection) => Promise<ServerEvent | undefined>,
  ): Promise<void> {
    for (const userId of userIds) {
      const conns = this.hub
        .connectionsOf(userId)
        .filter((c) => roomId === null || c.rooms.has(roomId));
      if (conns.length === 0) continue;
      try {
        const event = await build(conns[0]!);
        if (!event) continue;
        const frame = JSON.stringify(event);
        for (const c of conns) this.hub.write(c, frame);
      } catch (err) {
        if (!(err instanceof AppError)) this.log.warn({ err }, 'could not build a real-time event');
      }
    }
  }
}
