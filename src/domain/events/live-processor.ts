import type { Bus } from '../../bus/bus.js';
import type { Processor } from './processor.js';

/**
 * The bus wake-up, again, from the outbox: the recovery path for the live push. The
 * writer still publishes in the same turn as its commit (that is the fast path); this
 * publishes the same wake-up once more after commit, for the case where that first one
 * never left: the process died between commit and publish, or Redis could not take it.
 * Repeating these two is a no-op by the bus contract (receivers compare seq with their
 * cursors; an ended session has no sockets left), which is why they are the ones taken.
 * While the bus is unhealthy the deliveries wait, spending no attempts.
 */
export function liveWakeups(bus: Bus): Processor {
  return {
    name: 'live-wakeup',
    takes: ['messages.committed', 'session.ended'],
    ready: () => bus.healthy(),
    handle: ({ event }) => {
      switch (event.type) {
        case 'messages.committed':
          bus.publish({
            t: 'messages',
            roomId: event.roomId,
            seq: event.lastSeq,
            userIds: [event.senderId, event.recipientId],
          });
          return Promise.resolve();
        case 'session.ended':
          bus.publish({
            t: 'session.ended',
            userId: event.userId,
            reason: event.reason,
            ...(event.sessionIds ? { sessionIds: event.sessionIds } : {}),
          });
          return Promise.resolve();
        case 'appointment.requested':
        case 'appointment.changed':
        case 'room.opened':
        case 'room.closed':
        case 'room.reopened':
        case 'room.archived':
          return Promise.reject(new Error(`live-wakeup does not take ${event.type}`));
      }
    },
  };
}
