import { z } from 'zod';

/** Notification preferences on the wire (`GET`/`PUT /api/me/notifications`). */
export const EMAIL_PREFERENCES = ['off', 'offline'] as const;
export const QUIET_MINUTES_MIN = 1;
export const QUIET_MINUTES_MAX = 1440;

export const notificationPreferencesSchema = z
  .object({
    email: z
      .enum(EMAIL_PREFERENCES)
      .describe('off: never; offline: when a message stays unread while you are not connected'),
    quietMinutes: z
      .number()
      .int('must be a whole number of minutes')
      .min(QUIET_MINUTES_MIN, `must be at least ${QUIET_MINUTES_MIN}`)
      .max(QUIET_MINUTES_MAX, `must be at most ${QUIET_MINUTES_MAX}`)
      .describe(
        'minutes a message waits unread before the e-mail, and between two e-mails about one conversation',
      ),
    push: z.boolean().describe('Web Push notifications on the devices you enabled'),
  })
  .strict();
export type NotificationPreferencesWire = z.infer<typeof notificationPreferencesSchema>;
