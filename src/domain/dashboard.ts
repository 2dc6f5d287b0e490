import type { DashboardWire } from '../shared/wire.js';
import type { AppointmentService } from './appointments.js';
import { auditEntry, type Ctx } from './context.js';
import type { Deps } from './deps.js';
import { presentMessage } from './message-presenter.js';
import { presentPerson } from './presenters.js';
import { unreadFor } from './rooms.js';

export type Dashboard = DashboardWire;

export const RECENT_MESSAGES = 8;

export class DashboardService {
  constructor(
    private readonly deps: Deps,
    private readonly appointments: AppointmentService,
  ) {}

  async get(ctx: Ctx): Promise<Dashboard> {
    const { store, clock } = this.deps;
    const [upcoming, requests, recent, unread] = await Promise.all([
      this.appointments.list(ctx, { scope: 'upcoming', limit: 50 }),
      this.appointments.requestsToAnswer(ctx, 50),
      store.for(ctx).messages.recentFromOthers(RECENT_MESSAGES),
      unreadFor(this.deps, ctx),
    ]);
    const senders = new Map(
      (await store.users.findManyByIds([...new Set(recent.map((m) => m.sender_id))])).map((u) => [
        u.id,
        u,
      ]),
    );
    if (recent.length > 0) {
      // Message text on the dashboard is a read of health information like any other.
      await this.deps.readAudit.record(
        auditEntry(
          ctx,
          clock.now(),
          'dashboard.read_recent_messages',
          { type: 'user', id: ctx.actor.id },
          {
            count: recent.length,
            rooms: [...new Set(recent.map((m) => m.room_id))].join(','),
          },
        ),
      );
    }
    return {
      upcomingAppointments: upcoming,
      requests,
      recentMessages: recent.map((m) => ({
        message: presentMessage(m),
        roomId: m.room_id,
        from: presentPerson(senders.get(m.sender_id)!),
      })),
      unread,
    };
  }
}
