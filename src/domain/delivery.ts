import type { Deps } from './deps.js';

/**
 * "Delivered" marks, coalesced: a recipient's client received or fetched messages up to
 * a seq. Many deliveries in a burst become one write per (room, user) shortly after,
 * off the send path, followed by a receipt to the room's participants.
 */
export class DeliveryRecorder {
  private pending = new Map<
    string,
    { roomId: string; userId: string; seq: number; userIds: readonly string[] }
  >();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: Deps,
    private readonly delayMs = 50,
  ) {}

  note(roomId: string, userId: string, seq: number, userIds: readonly string[]): void {
    const key = `${roomId}:${userId}`;
    const cur = this.pending.get(key);
    if (cur && cur.seq >= seq) return;
    this.pending.set(key, { roomId, userId, seq, userIds });
    this.timer ??= setTimeout(() => void this.flush(), this.delayMs);
  }

  async flush(): Promise<void> {
    this.timer = undefined;
    const items = [...this.pending.values()];
    this.pending.clear();
    if (items.length === 0) return;
    try {
      // Marks of many recipients in one write: each was noted for a message that recipient received.
      const moved = await this.deps.store.transaction((tx) =>
        tx.system().rooms.advanceDelivered(items),
      );
      const userIdsOf = new Map(items.map((i) => [`${i.roomId}:${i.userId}`, i.userIds]));
      for (const m of moved) {
        // Only the sender needs to hear that the other side has the message.
        const userIds = userIdsOf.get(`${m.roomId}:${m.userId}`)!.filter((u) => u !== m.userId);
        this.deps.bus.publish({
          t: 'receipt',
          roomId: m.roomId,
          userId: m.userId,
          kind: 'delivered',
          seq: m.seq,
          userIds,
        });
      }
    } catch (err) {
      // A lost delivered mark is cosmetic; the next fetch or read records it again.
      this.deps.log.warn({ err }, 'could not record delivered marks');
    }
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    await this.flush();
  }
}
