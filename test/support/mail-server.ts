/**
 * A real carechat server (the same buildApp as `npm start`, e-mail on through SMTP_URL)
 * whose clock runs MAIL_TEST_CLOCK_AHEAD_MS ahead of the machine's, so a restarted process
 * finds a quiet period already over without the test waiting minutes. The outbox polls
 * often so the test sees its work quickly.
 *
 * Started by tests as `node --import tsx test/support/mail-server.ts`.
 */
import { serveChild } from './serve-child.js';

const ahead = Number(process.env.MAIL_TEST_CLOCK_AHEAD_MS ?? 0);

serveChild('mail test server', {
  clock: { now: () => Date.now() + ahead },
  outbox: { pollMs: 50 },
});
