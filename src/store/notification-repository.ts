import type { Kysely, Selectable } from 'kysely';
import type {
  DB,
  EmailPreference,
  NotificationPreferencesTable,
  NotificationStateTable,
  Role,
} from './schema.js';

export type NotificationPreferencesRow = Selectable<NotificationPreferencesTable>;
export type NotificationStateRow = Selectable<NotificationStateTable>;

export interface PreferenceValues {
  email: EmailPreference;
  quietMinutes: number;
  push: boolean;
}

/** What deciding on a notification needs about one recipient in one room: no content. */
export interface RecipientFacts {
  email: string;
  role: Role;
  disabled: boolean;
  readSeq: number;
  lastSeq: number;
}

/** Notification preferences and, per room and recipient, what the last e-mail covered. */
export class NotificationRepository {
  constructor(private readonly db: Kysely<DB>) {}

  preferences(userId: string): Promise<NotificationPreferencesRow | undefined> {
    return this.db
      .selectFrom('notification_preferences')
      .selectAll()
      .where('user_id', '=', userId)
      .executeTakeFirst();
  }

  async savePreferences(userId: string, values: PreferenceValues, at: number): Promise<void> {
    const set = {
      email: values.email,
      quiet_minutes: values.quietMinutes,
      push: values.push ? 1 : 0,
      updated_at: at,
    };
    await this.db
      .insertInto('notification_preferences')
      .values({ user_id: userId, ...set })
      .onConflict((oc) => oc.column('user_id').doUpdateSet(set))
      .execute();
  }

  /** Turns e-mail off, keeping the other choices (an unsubscribe link). */
  async emailOff(userId: string, at: number): Promise<void> {
    await this.db
      .insertInto('notification_preferences')
      .values({ user_id: userId, email: 'off', updated_at: at })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ email: 'off', updated_at: at }))
      .execute();
  }

  /** The user's unsubscribe key, `fresh` stored first if they have none yet. */
  async unsubscribeKey(userId: string, fresh: string, at: number): Promise<string> {
    await this.db
      .insertInto('notification_preferences')
      .values({ user_id: userId, unsubscribe_key: fresh, updated_at: at })
      .onConflict((oc) =>
        oc
          .column('user_id')
          .doUpdateSet({ unsubscribe_key: fresh })
          .where('notification_preferences.unsubscribe_key', 'is', null),
      )
      .execute();
    const row = await this.preferences(userId);
    if (!row?.unsubscribe_key) throw new Error('unsubscribe key was not stored');
    return row.unsubscribe_key;
  }

  recipient(roomId: string, userId: string): Promise<RecipientFacts | undefined> {
    return this.db
      .selectFrom('room_members as m')
      .innerJoin('rooms as r', 'r.id', 'm.room_id')
      .innerJoin('users as u', 'u.id', 'm.user_id')
      .select(['u.email', 'u.role', 'u.disabled_at', 'm.read_seq', 'r.last_seq'])
      .where('m.room_id', '=', roomId)
      .where('m.user_id', '=', userId)
      .executeTakeFirst()
      .then(
        (r) =>
          r && {
            email: r.email,
            role: r.role,
            disabled: r.disabled_at !== null,
            readSeq: Number(r.read_seq),
            lastSeq: Number(r.last_seq),
          },
      );
  }

  state(roomId: string, userId: string): Promise<NotificationStateRow | undefined> {
    return this.db
      .selectFrom('notification_state')
      .selectAll()
      .where('room_id', '=', roomId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
  }

  /** An e-mail about the room went, covering messages up to `seq`; its reminder is still to come. */
  async recordMail(
    roomId: string,
    userId: string,
    mail: { at: number; seq: number; eventId: string },
  ): Promise<void> {
    const set = {
      mailed_at: mail.at,
      mailed_seq: mail.seq,
      mail_event_id: mail.eventId,
      reminded_at: null,
      updated_at: mail.at,
    };
    await this.db
      .insertInto('notification_state')
      .values({ room_id: roomId, user_id: userId, ...set })
      .onConflict((oc) => oc.columns(['room_id', 'user_id']).doUpdateSet(set))
      .execute();
  }

  async recordReminder(roomId: string, userId: string, at: number): Promise<void> {
    await this.db
      .updateTable('notification_state')
      .set({ reminded_at: at, updated_at: at })
      .where('room_id', '=', roomId)
      .where('user_id', '=', userId)
      .execute();
  }
}
