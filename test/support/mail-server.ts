/**
 * A real carechat server (the same buildApp as `npm start`, e-mail on through SMTP_URL)
 * whose clock runs MAIL_TEST_CLOCK_AHEAD_MS ahead of the machine's, so a restarted process
 * finds a quiet period already over without the test waiting minutes. The outbox polls
 * often so the test sees its work quickly.
 *
 * Started by tests as `node --import tsx test/support/mail-server.ts`.
 */
import { buildApp, createLogger } from '../../src/server/app.js';
import { loadConfig } from '../../src/server/config.js';

const ahead = Number(process.env.MAIL_TEST_CLOCK_AHEAD_MS ?? 0);

async function main(): Promise<void> {
  const config = loadConfig();
  const built = await buildApp({
    config,
    logger: createLogger(config),
    clock: { now: () => Date.now() + ahead },
    outbox: { pollMs: 50 },
  });
  const address = await built.app.listen({ port: config.port, host: config.host });
  process.stdout.write(`carechat is running at ${address}\n`);
  process.on('SIGTERM', () => {
    built.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`mail test server could not start: ${String(err)}\n`);
  process.exit(1);
});
