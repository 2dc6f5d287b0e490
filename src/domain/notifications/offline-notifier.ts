import type { Logger } from 'pino';
import type { Store } from '../../store/store.js';
import type { Clock } from '../clock.js';
import type { Delivered, DomainEvent } from '../events/events.js';
import type { Deferred, Processor } from '../events/processor.js';
import { notificationPreferences, type NotificationPreferences } from './preferences.js';

/** One notice to one recipient about one room: ids only, never what was written. */
export interface OfflineNotice {
  kind: 'new' | 'reminder';
  userId: string;
  email: string;
  roomId: string;
  /** Stable for this notice across retries and restarts (a Message-ID, say). */
  key: string;
}

/** A way to reach a recipient who is not looking: e-mail today. */
export interface NotificationChannel {
  /** Becomes the outbox processor's name, e.g. `offline-email`. */
  readonly name: string;
  wants(prefs: NotificationPreferences): boolean;
  /** Throws to be retried (`PermanentFailure` when retrying cannot help). */
  send(notice: OfflineNotice): Promise<void>;
}

export interface OfflineNotifierDeps {
  store: Store;
  clock: Clock;
  log: Logger;
  /** A live connection in any process: the app shows the message, no notice needed. */
  isOnline: (userId: string) => Promise<boolean>;
  channel: NotificationChannel;
  /** After a notice, one reminder this much later if still unread. */
  reminderMs: number;
}

export const DEFAULT_REMINDER_MS = 24 * 3_600_000;

type Committed = Extract<DomainEvent, { type: 'messages.committed' }>;

/**
 * "Notify an offline recipient", as an outbox processor over `messages.committed`. The
 * delivery waits (deferred, spending no attempt) for the recipient's quiet period and
 * then, if the messages are still unread and the recipient has no live connection, sends
 * one notice through the channel, covering every message of the room so far: a burst
 * gives one notice, and the next can go only a quiet period after the last. The delivery
 * that sent a notice owns its reminder and waits for it. A message read first never
 * gives a notice.
 *
 * Idempotent: what was sent is recorded per room and recipient right after the send, so a
 * rerun (the outbox is at least once) finds it and sends nothing again. The outbox runs a
 * processor's deliveries one at a time in one process, so these reads and writes race
 * with nothing but read marks, which only ever make a notice unnecessary.
 */
export function offlineNotifier(deps: OfflineNotifierDeps): Processor {
  const { store, clock, channel } = deps;
  // Not done for one caller: the system's view, by name (ids and counters, no content).
  const notifications = store.system().notifications;

  async function handle(d: Delivered): Promise<void | Deferred> {
    const e = d.event;
    if (e.type !== 'messages.committed') return;
    const prefs = await notificationPreferences(store, e.recipientId);
    if (!channel.wants(prefs)) return;
    const facts = await notifications.recipient(e.roomId, e.recipientId);
    if (!facts || facts.disabled) return;
    if (facts.readSeq >= e.lastSeq) return;
    const now = clock.now();
    const quietMs = prefs.quietMinutes * 60_000;
    const state = await notifications.state(e.roomId, e.recipientId);

    // This delivery sent the room's latest notice: it owns the one reminder.
    if (state?.mail_event_id === d.eventId && state.mailed_at !== null) {
      if (state.reminded_at !== null) return;
      const remindAt = Number(state.mailed_at) + deps.reminderMs;
      if (now < remindAt) return { deferUntil: remindAt };
      if (await deps.isOnline(e.recipientId)) return;
      await send(d, e, facts.email, 'reminder');
      await notifications.recordReminder(e.roomId, e.recipientId, clock.now());
      return;
    }
    // Covered by a notice already sent (the rest of a burst).
    if (state && Number(state.mailed_seq) >= e.lastSeq) return;

    const due = Math.max(
      d.createdAt + quietMs,
      state?.mailed_at != null ? Number(state.mailed_at) + quietMs : 0,
    );
    if (now < due) return { deferUntil: due };
    if (await deps.isOnline(e.recipientId)) {
      // Connected but not reading: look again later, for as long as a reminder would wait.
      return now - d.createdAt < deps.reminderMs ? { deferUntil: now + quietMs } : undefined;
    }
    await send(d, e, facts.email, 'new');
    await notifications.recordMail(e.roomId, e.recipientId, {
      at: clock.now(),
      seq: facts.lastSeq,
      eventId: d.eventId,
    });
    return { deferUntil: clock.now() + deps.reminderMs };
  }

  async function send(d: Delivered, e: Committed, email: string, kind: OfflineNotice['kind']) {
    await channel.send({
      kind,
      userId: e.recipientId,
      email,
      roomId: e.roomId,
      key: `${d.idempotencyKey}:${kind}`,
    });
    // Ids only: who was told about which room, never of what.
    deps.log.info(
      { processor: channel.name, deliveryId: d.deliveryId, roomId: e.roomId, kind },
      'offline notification sent',
    );
  }

  return { name: channel.name, takes: ['messages.committed'], handle };
}
