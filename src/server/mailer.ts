import nodemailer from 'nodemailer';
import { PermanentFailure } from '../domain/events/processor.js';
import type { Mail, MailSender } from '../domain/notifications/email.js';

interface SmtpError {
  code?: string;
  responseCode?: number;
  command?: string;
}

/**
 * What the admin's outbox shows of an SMTP failure: the status and the command it came
 * at, never the server's own text (which may quote the address).
 */
export function smtpFailure(err: unknown): Error {
  const e = (typeof err === 'object' && err !== null ? err : {}) as SmtpError;
  const at = e.command ? ` at ${e.command.split(' ')[0]}` : '';
  if (typeof e.responseCode === 'number' && e.responseCode >= 500)
    return new PermanentFailure(
      `SMTP server refused the message for good (${e.responseCode}${at}); check the recipient's address, then retry`,
    );
  if (typeof e.responseCode === 'number')
    return new Error(`SMTP server deferred the message (${e.responseCode}${at}); will retry`);
  return new Error(`could not hand the message to the SMTP server (${e.code ?? 'unknown error'})`);
}

/** Notification e-mails through nodemailer to SMTP_URL, with bounded waits. */
export function smtpSender(opts: { smtpUrl: string; from: string }): MailSender & {
  close(): void;
} {
  const transport = nodemailer.createTransport(
    {
      url: opts.smtpUrl,
      // A stuck server must not hold the outbox (the next notice waits for this one) for long.
      connectionTimeout: 15_000,
      greetingTimeout: 15_000,
      socketTimeout: 30_000,
    },
    { from: opts.from },
  );
  return {
    send: async (mail: Mail) => {
      try {
        await transport.sendMail({
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          messageId: mail.messageId,
          headers: mail.headers,
        });
      } catch (err) {
        throw smtpFailure(err);
      }
    },
    close: () => transport.close(),
  };
}
