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
import { serveChild } from './serve-child.js';
import type { Processor } from '../../src/domain/events/processor.js';

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

serveChild('outbox test server', { processors: [counter], outbox: { pollMs: 50 } });
