import type { Store } from '../../store/store.js';
import {
  notificationPreferencesSchema,
  type NotificationPreferencesWire,
} from '../../shared/notifications.js';
import { auditEntry, type Ctx } from '../context.js';
import type { Deps } from '../deps.js';
import { parseField } from '../validate.js';

export type NotificationPreferences = NotificationPreferencesWire;

/** What a user who never chose gets: e-mail when offline after ten quiet minutes, push on. */
export const defaultPreferences: NotificationPreferences = {
  email: 'offline',
  quietMinutes: 10,
  push: true,
};

/**
 * A user's notification preferences, for the channels that decide whether to notify
 * (e-mail, Web Push). Not health information: any part of the server may ask.
 */
export async function notificationPreferences(
  store: Store,
  userId: string,
): Promise<NotificationPreferences> {
  const row = await store.notifications.preferences(userId);
  if (!row) return { ...defaultPreferences };
  return {
    email: row.email,
    quietMinutes: Number(row.quiet_minutes),
    push: Number(row.push) === 1,
  };
}

/** The signed-in user's own preferences. */
export class NotificationPreferencesService {
  constructor(private readonly deps: Pick<Deps, 'store' | 'clock'>) {}

  get(ctx: Ctx): Promise<NotificationPreferences> {
    return notificationPreferences(this.deps.store, ctx.actor.id);
  }

  async update(ctx: Ctx, values: NotificationPreferences): Promise<NotificationPreferences> {
    // The route checks the same schema; the domain holds to it whoever calls.
    const checked = parseField(notificationPreferencesSchema, values, '');
    const now = this.deps.clock.now();
    await this.deps.store.transaction(async (tx) => {
      await tx.notifications.savePreferences(ctx.actor.id, checked, now);
      await tx.audit.record(
        auditEntry(
          ctx,
          now,
          'notification.preferences_update',
          { type: 'user', id: ctx.actor.id },
          { email: checked.email, quietMinutes: checked.quietMinutes, push: checked.push },
        ),
      );
    });
    return notificationPreferences(this.deps.store, ctx.actor.id);
  }
}
