import type { Store } from '../../store/store.js';
import type { Clock } from '../clock.js';
import type { NotificationChannel, OfflineNotice } from './offline-notifier.js';
import { unsubscribeLink } from './unsubscribe.js';

/** One e-mail as the sender hands it to SMTP. */
export interface Mail {
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Stable per notice: a resend after a crash carries the same one, so clients can fold it. */
  messageId: string;
  headers: Record<string, string>;
}

/** The SMTP side (server/mailer.ts): throws to be retried, `PermanentFailure` for a 5xx. */
export interface MailSender {
  send(mail: Mail): Promise<void>;
}

export interface EmailChannelOptions {
  store: Store;
  clock: Clock;
  sender: MailSender;
  practiceName: string;
  /** Read at each send: tests learn their origin only after listen. */
  publicOrigin: () => string;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The e-mail a notice becomes. It names the practice and links to the conversation's
 * sign-in, and nothing else: never the sender, their words, their specialty or the
 * appointment, because an inbox is not a safe place for health information.
 */
export function composeMail(
  notice: OfflineNotice,
  o: { practiceName: string; origin: string; unsubscribeUrl: string },
): Mail {
  const signIn = new URL(`/chat/room/${encodeURIComponent(notice.roomId)}`, o.origin).toString();
  const lead =
    notice.kind === 'reminder'
      ? `Reminder: a secure message from ${o.practiceName} is still waiting for you.`
      : `You have a new secure message from ${o.practiceName}.`;
  const subject =
    notice.kind === 'reminder'
      ? `Reminder: unread secure message from ${o.practiceName}`
      : `New secure message from ${o.practiceName}`;
  const text = [
    lead,
    '',
    'For your privacy this e-mail does not contain the message. Sign in to read it:',
    signIn,
    '',
    `You get this e-mail because you have an account with ${o.practiceName}.`,
    `To stop these e-mails: ${o.unsubscribeUrl}`,
    '',
  ].join('\n');
  const html = `<!doctype html>
<html lang="en"><body style="font-family: system-ui, sans-serif; line-height: 1.5">
<p>${escapeHtml(lead)}</p>
<p>For your privacy this e-mail does not contain the message.</p>
<p><a href="${escapeHtml(signIn)}">Sign in to read it</a></p>
<p style="color: #555; font-size: 0.9em">You get this e-mail because you have an account with ${escapeHtml(o.practiceName)}.
<a href="${escapeHtml(o.unsubscribeUrl)}">Stop these e-mails</a>.</p>
</body></html>
`;
  const host = new URL(o.origin).hostname;
  return {
    to: notice.email,
    subject,
    text,
    html,
    messageId: `<${notice.key.replace(/[^A-Za-z0-9.-]/g, '.')}@${host}>`,
    headers: {
      // RFC 8058: mail providers offer "unsubscribe" and POST to it without the user's session.
      'List-Unsubscribe': `<${o.unsubscribeUrl}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'Auto-Submitted': 'auto-generated',
    },
  };
}

/** Notices as e-mail, for users who chose e-mail when offline. */
export function emailChannel(o: EmailChannelOptions): NotificationChannel {
  return {
    name: 'offline-email',
    wants: (prefs) => prefs.email === 'offline',
    send: async (notice) => {
      const origin = o.publicOrigin();
      const unsubscribeUrl = await unsubscribeLink(o.store, o.clock, origin, notice.userId);
      await o.sender.send(
        composeMail(notice, { practiceName: o.practiceName, origin, unsubscribeUrl }),
      );
    },
  };
}
