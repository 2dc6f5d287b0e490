import type { AttachmentWire } from '../../shared/wire.js';
import { Store } from '../lib/store.js';
import type { LiveClient } from './client.js';

export type OutgoingState = 'queued' | 'sending' | 'failed';

export interface Outgoing {
  clientId: string;
  roomId: string;
  body: string;
  /** Already uploaded; the message makes them visible to the other participant. */
  attachments: AttachmentWire[];
  state: OutgoingState;
  error: string | null;
  createdAt: string;
}

/** How long a message may wait for the server's acknowledgement before we say "Not sent". */
export const SEND_TIMEOUT_MS = 12_000;

export function newClientId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  // crypto.randomUUID needs a secure context; build the same v4 UUID by hand elsewhere.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * Messages on their way to the server, kept in memory only (never in storage: they are
 * health information). Each keeps its client id for its whole life, so a retry can never
 * make a second message: the server answers a repeated client id with the original.
 */
export class Outbox {
  readonly items = new Store<Outgoing[]>([]);
  private timers = new Map<string, ReturnType<typeof setTimeout>>();
  private unsubscribe: Array<() => void> = [];

  constructor(private readonly live: LiveClient) {}

  attach(): void {
    const live = this.live;
    this.dispose();
    this.unsubscribe.push(
      live.on('ack', (e) => this.settle(e.clientId)),
      live.on('message', (e) => {
        if (e.message.senderId === live.userId) this.settle(e.message.clientId);
      }),
      live.on('error', (e) => {
        if (e.clientId) this.fail(e.clientId, e.title);
      }),
      live.onConnection((up) => (up ? this.flush() : this.requeueInFlight())),
    );
  }

  dispose(): void {
    for (const u of this.unsubscribe) u();
    this.unsubscribe = [];
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  send(roomId: string, body: string, attachments: AttachmentWire[] = []): Outgoing {
    const item: Outgoing = {
      clientId: newClientId(),
      roomId,
      body,
      attachments,
      state: 'queued',
      error: null,
      createdAt: new Date().toISOString(),
    };
    this.items.update((list) => [...list, item]);
    this.attempt(item.clientId);
    return item;
  }

  /** Tries again with the same client id. */
  retry(clientId: string): void {
    this.patch(clientId, { state: 'queued', error: null });
    this.attempt(clientId);
  }

  discard(clientId: string): void {
    this.clearTimer(clientId);
    this.items.update((list) => list.filter((i) => i.clientId !== clientId));
  }

  private attempt(clientId: string): void {
    const item = this.items.get().find((i) => i.clientId === clientId);
    if (!item) return;
    this.clearTimer(clientId);
    this.timers.set(
      clientId,
      setTimeout(() => this.fail(clientId, null), SEND_TIMEOUT_MS),
    );
    if (!this.live.online) return; // stays queued; flushed when the connection is back
    this.patch(clientId, { state: 'sending' });
    this.live.sendMessage(
      item.roomId,
      item.clientId,
      item.body,
      item.attachments.map((a) => a.id),
    );
  }

  private flush(): void {
    for (const item of this.items.get()) if (item.state === 'queued') this.attempt(item.clientId);
  }

  /** A send cut off mid-way may or may not have arrived; the same client id makes resending safe. */
  private requeueInFlight(): void {
    for (const item of this.items.get())
      if (item.state === 'sending') this.patch(item.clientId, { state: 'queued' });
  }

  private settle(clientId: string): void {
    if (!this.items.get().some((i) => i.clientId === clientId)) return;
    this.discard(clientId);
  }

  private fail(clientId: string, error: string | null): void {
    this.clearTimer(clientId);
    this.patch(clientId, { state: 'failed', error });
  }

  private patch(clientId: string, change: Partial<Outgoing>): void {
    this.items.update((list) =>
      list.map((i) => (i.clientId === clientId ? { ...i, ...change } : i)),
    );
  }

  private clearTimer(clientId: string): void {
    const t = this.timers.get(clientId);
    if (t) clearTimeout(t);
    this.timers.delete(clientId);
  }
}
