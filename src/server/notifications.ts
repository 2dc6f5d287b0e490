import { emailChannel } from '../domain/notifications/email.js';
import { DEFAULT_REMINDER_MS, offlineNotifier } from '../domain/notifications/offline-notifier.js';
import { smtpSender } from './mailer.js';
import type { Services } from './services.js';

/**
 * E-mail for offline recipients: an outbox processor, registered before any message can
 * commit so every `messages.committed` gets its delivery. Without SMTP_URL there is none
 * (and no backlog builds up); the log says so once.
 */
export function registerOfflineEmail(
  services: Services,
  isOnline: (userId: string) => Promise<boolean>,
): { close(): void } | undefined {
  const { config, log } = services;
  if (!config.mail.smtpUrl) {
    log.info('SMTP_URL is not set: e-mail notifications are off');
    return undefined;
  }
  const sender = smtpSender({ smtpUrl: config.mail.smtpUrl, from: config.mail.from });
  services.outbox.registry.register(
    offlineNotifier({
      store: services.store,
      clock: services.clock,
      log: log.child({ part: 'notifications' }),
      isOnline,
      reminderMs: DEFAULT_REMINDER_MS,
      channel: emailChannel({
        store: services.store,
        clock: services.clock,
        sender,
        practiceName: config.practiceName,
        publicOrigin: () => config.publicOrigin,
      }),
    }),
  );
  return sender;
}
