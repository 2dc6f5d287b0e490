import type { Deps } from './deps.js';

/**
 * "Delivered" marks, coalesced: a recipient's client received or fetched messages up to
 * a seq. Many deliveries in a burst become one write per (room, user) shortly after,
 * off the send path, followed by a receipt to the room's participants.
 */
export class DeliveryRecorder {
  private pending = new Map<
    string,
    { roomId: string; userId: string; seq: number; userIds: string[] }
  >();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly deps: Deps,
    private readonly delayMs = 20,
  ) {}

  note(roomId: string, userId: string, seq: number, userIds: string[]): void {
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
      const stored = await this.deps.store.transaction(async (tx) => {
        const out: { item: (typeof items)[number]; before: number; after: number }[] = [];
        for (const item of items) {
          const before = (await tx.rooms.member(item.roomId, item.userId))?.delivered_seq ?? 0;
          const after = await tx.rooms.advanceMark(
            item.roomId,
            item.userId,
            'delivered_seq',
            item.seq,
          );
          out.push({ item, before, after });
        }
        return out;
      });
      for (const { item, before, after } of stored) {
        if (after > before) {
          this.deps.bus.publish({
            t: 'receipt',
            roomId: item.roomId,
            userId: item.userId,
            kind: 'delivered',
            seq: after,
            userIds: item.userIds,
          });
        }
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
