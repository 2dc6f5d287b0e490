import { createHash } from 'node:crypto';
import type { Deps } from '../deps.js';
import type { DomainEvent } from '../events/events.js';
import type { Processor } from '../events/processor.js';
import type { PushSender } from './web-push-sender.js';

/** What the service worker receives: enough to show and route a notification, nothing more. */
export interface PushPayload {
  v: 1;
  title: string;
  body: string;
  roomId: string;
  /** The newest message it announces, so the app can close it once that is read. */
  seq: number;
  url: string;
}

export const PUSH_TITLE = 'New secure message';
// A day: a notification older than that is stale (the e-mail reminder covers the rest).
const TTL_SECONDS = 24 * 3600;

export interface PushProcessorDeps {
  deps: Pick<Deps, 'store' | 'clock' | 'log'>;
  sender: PushSender;
  /** Live connections per user across processes (the gateway's presence counts). */
  liveConnections(userIds: readonly string[]): Promise<Map<string, number>>;
  /** The user's own choice (`push` in their notification preferences). */
  pushWanted(userId: string): Promise<boolean>;
  practiceName: string;
}

/**
 * Web Push for new messages, from the outbox, so a crash between commit and send loses
 * none. Pushed only to a recipient with no carechat tab open anywhere (an open tab shows
 * its own notification, and someone in the room needs none) and only while the messages
 * are still unread: one read on another device before the push is due is not announced.
 * The payload names the practice and the room, never the sender or the words: it is shown
 * on a lock screen, to whoever holds the phone.
 */
export function pushProcessor(p: PushProcessorDeps): Processor {
  const { store, clock, log } = p.deps;

  async function announce(
    e: Extract<DomainEvent, { type: 'messages.committed' }>,
    createdAt: number,
  ) {
    const subs = await store.push.forUser(e.recipientId);
    if (subs.length === 0) return;
    const system = store.system();
    const user = await system.users.findById(e.recipientId);
    if (!user || user.disabled_at !== null) return;
    if (!(await p.pushWanted(user.id))) return;
    const live = (await p.liveConnections([user.id])).get(user.id) ?? 0;
    if (live > 0) return;
    const member = await system.rooms.member(e.roomId, user.id);
    if (!member || member.read_seq >= e.lastSeq) return;

    const payload: PushPayload = {
      v: 1,
      title: PUSH_TITLE,
      body: p.practiceName,
      roomId: e.roomId,
      seq: e.lastSeq,
      url: `/chat/room/${encodeURIComponent(e.roomId)}/`,
    };
    const body = JSON.stringify(payload);
    // One topic per room: pushes still waiting at the push service replace each other.
    const topic = createHash('sha256').update(e.roomId).digest('base64url').slice(0, 32);
    const refused: number[] = [];
    for (const sub of subs) {
      // At least once: a retry skips the devices this event (or a later one) already reached.
      if (sub.last_success_at !== null && sub.last_success_at >= createdAt) continue;
      const status = await p.sender
        .send({ endpoint: sub.endpoint, keys: { p256dh: sub.p256dh, auth: sub.auth } }, body, {
          ttlSeconds: TTL_SECONDS,
          urgency: 'high',
          topic,
        })
        .catch((err: unknown) => {
          log.debug({ err }, 'web push could not reach a push service');
          return 0;
        });
      if (status >= 200 && status < 300) await store.push.markSuccess(sub.endpoint, clock.now());
      else if (status === 404 || status === 410) await store.push.remove(sub.endpoint);
      else refused.push(status);
    }
    if (refused.length > 0) {
      // The admin reads this: statuses only (0: unreachable), no endpoint (it names a device).
      throw new Error(
        `${refused.length} of ${subs.length} push services did not accept the push (status ${refused.join(', ')})`,
      );
    }
  }

  return {
    name: 'web-push',
    takes: ['messages.committed', 'session.ended'],
    // A recipient without a subscribed device has nothing to be pushed to. One who
    // subscribes later is announced the messages that come after.
    wants: (event) => event.type !== 'messages.committed' || event.recipientPush,
    handle: async ({ event, createdAt }) => {
      switch (event.type) {
        case 'messages.committed':
          return announce(event, createdAt);
        case 'session.ended':
          // Signing out takes that device's subscription; disabling an account or resetting
          // its password means its devices are no longer trusted, so all of them go.
          if (event.reason === 'logout') await store.push.removeForSessions(event.sessionIds ?? []);
          else if (event.reason === 'disabled' || event.reason === 'password_reset')
            await store.push.removeForUser(event.userId);
          return;
        case 'appointment.requested':
        case 'appointment.changed':
        case 'room.opened':
        case 'room.closed':
        case 'room.reopened':
        case 'room.archived':
          throw new Error(`web-push does not take ${event.type}`);
      }
    },
  };
}
