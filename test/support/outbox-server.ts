/**
 * A real carechat server (the same buildApp as `npm start`) with one extra outbox
 * processor, `test-counter`, that takes `appointment.requested` and writes what it does to
 * the file OUTBOX_TEST_LOG, one line each, so tests in another process can count.
 *
 *   OUTBOX_TEST_MODE=count  `start <pid> <key>`, waits OUTBOX_TEST_WORK_MS, `done <pid> <key>`
 *   OUTBOX_TEST_MODE=hold   `hold <pid> <key>` and never returns: the test kills the process
 *
 * Started by tests as `node --import tsx test/support/outbox-server.ts`.
 */
import { appendFileSync } from 'node:fs';
import type { Processor } from '../../src/domain/events/processor.js';
import { buildApp, createLogger } from '../../src/server/app.js';
import { loadConfig } from '../../src/server/config.js';

const file = process.env.OUTBOX_TEST_LOG;
if (!file) throw new Error('OUTBOX_TEST_LOG is required');
const mode = process.env.OUTBOX_TEST_MODE === 'hold' ? 'hold' : 'count';
const workMs = Number(process.env.OUTBOX_TEST_WORK_MS ?? 0);
const note = (word: string, key: string) => appendFileSync(file, `${word} ${process.pid} ${key}\n`);

const counter: Processor = {
  name: 'test-counter',
  takes: ['appointment.requested'],
  handle: async ({ idempotencyKey }) => {
    if (mode === 'hold') {
      note('hold', idempotencyKey);
      await new Promise<never>(() => undefined);
    }
    note('start', idempotencyKey);
    if (workMs > 0) await new Promise((r) => setTimeout(r, workMs));
    note('done', idempotencyKey);
  },
};

async function main(): Promise<void> {
  const config = loadConfig();
  const built = await buildApp({
    config,
    logger: createLogger(config),
    processors: [counter],
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
  process.stderr.write(`outbox test server could not start: ${String(err)}\n`);
  process.exit(1);
});
