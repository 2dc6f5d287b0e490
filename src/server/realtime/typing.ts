import type { Bus, BusEvent } from '../../bus/bus.js';
import { TYPING_EXPIRES_MS } from '../../shared/events.js';
import type { Hub } from './hub.js';

/** "Is typing", per room and user: bus events only, never stored, and expiring by themselves. */
export class Typing {
  /** Who is typing where (`roomId:userId`): the expiry timer, and who hears of it. */
  private readonly active = new Map<
    string,
    { timer: NodeJS.Timeout; userIds: readonly string[] }
  >();

  constructor(
    private readonly hub: Hub,
    private readonly bus: Bus,
  ) {}

  set(userId: string, roomId: string, typing: boolean, userIds: readonly string[]): void {
    const key = `${roomId}:${userId}`;
    const current = this.active.get(key);
    if (current) clearTimeout(current.timer);
    if (typing) {
      // Typing expires by itself: a client that vanishes mid-sentence stops "typing".
      const timer = setTimeout(() => this.set(userId, roomId, false, userIds), TYPING_EXPIRES_MS);
      timer.unref();
      this.active.set(key, { timer, userIds });
      if (current) return; // still typing: no new event, just a longer expiry
    } else {
      this.active.delete(key);
      if (!current) return;
    }
    this.bus.publish({ t: 'typing', roomId, userId, typing, userIds: [...userIds] });
  }

  /** The user's last connection here is gone: they stop typing everywhere. */
  stopAll(userId: string): void {
    for (const [key, t] of this.active) {
      if (key.endsWith(`:${userId}`))
        this.set(userId, key.slice(0, key.indexOf(':')), false, t.userIds);
    }
  }

  heard(e: Extract<BusEvent, { t: 'typing' }>): void {
    this.hub.broadcast(
      e.userIds.filter((u) => u !== e.userId),
      { type: 'typing', roomId: e.roomId, userId: e.userId, typing: e.typing },
      (c) => c.rooms.has(e.roomId),
    );
  }

  shutdown(): void {
    for (const t of this.active.values()) clearTimeout(t.timer);
  }
}
