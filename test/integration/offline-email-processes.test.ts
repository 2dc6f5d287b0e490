import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/database.js';
import { createTestStore, type TestStore } from '../support/app.js';
import { buildAcceptedAppointment, startMessagingApp } from '../support/factories.js';
import { ServerProcess } from '../support/server-process.js';
import { SmtpSink } from '../support/smtp-sink.js';

/**
 * Real server processes (test/support/mail-server.ts) on one store and a real SMTP server,
 * killed with SIGKILL between the commit of a message and its e-mail: the restarted
 * process sends it, once.
 */
const ENTRY = 'test/support/mail-server.ts';
const QUIET_OVER = 11 * 60_000;
const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
}, 30_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not in time`);
    await sleep(25);
  }
}

interface Practice {
  store: TestStore;
  smtp: SmtpSink;
  roomId: string;
  practitioner: { cookie: string; csrf: string };
}

async function practice(): Promise<Practice> {
  const store = await createTestStore();
  cleanup.push(() => store.drop());
  const smtp = await SmtpSink.start();
  cleanup.push(() => smtp.close());
  // Sessions live in the store, so any process takes them.
  const seed = await startMessagingApp({ store });
  const c = await buildAcceptedAppointment(seed);
  await seed.stop();
  return {
    store,
    smtp,
    roomId: c.roomId,
    practitioner: { cookie: c.practitionerClient.cookie, csrf: c.practitionerClient.csrfToken },
  };
}

async function server(p: Practice, aheadMs: number): Promise<ServerProcess> {
  const proc = await ServerProcess.start(ENTRY, {
    DATABASE_URL: p.store.url,
    DATABASE_POOL_SIZE: '3',
    SMTP_URL: p.smtp.url,
    SESSION_IDLE_MINUTES: '120',
    MAIL_TEST_CLOCK_AHEAD_MS: String(aheadMs),
  });
  cleanup.push(() => proc.kill());
  return proc;
}

async function sendThrough(p: Practice, proc: ServerProcess): Promise<void> {
  const res = await fetch(`${proc.url}/api/rooms/${p.roomId}/messages`, {
    method: 'POST',
    headers: {
      cookie: p.practitioner.cookie,
      'x-csrf-token': p.practitioner.csrf,
      'content-type': 'application/json',
      origin: proc.url,
    },
    body: JSON.stringify({ clientId: randomUUID(), body: 'Your results are in' }),
  });
  expect(res.status, proc.log).toBe(201);
}

async function emailDelivery(p: Practice) {
  const database = openDatabase(p.store.url, { poolSize: 1 });
  try {
    return await database.db
      .selectFrom('event_deliveries')
      .select(['state', 'attempts'])
      .where('processor', '=', 'offline-email')
      .execute();
  } finally {
    await database.close();
  }
}

/** Whether a process has recorded the room's e-mail as sent (the step right after the SMTP exchange). */
async function mailRecorded(p: Practice): Promise<boolean> {
  const database = openDatabase(p.store.url, { poolSize: 1 });
  try {
    const rows = await database.db
      .selectFrom('notification_state')
      .select('mailed_at')
      .where('room_id', '=', p.roomId)
      .execute();
    return rows.some((r) => r.mailed_at !== null);
  } finally {
    await database.close();
  }
}

describe('offline e-mail across a crash', () => {
  it('a message committed just before kill -9 gets exactly one e-mail from the restarted process', async () => {
    const p = await practice();
    const first = await server(p, 0);
    await sendThrough(p, first);
    // Committed, waiting out the quiet period: then the process dies.
    expect(await emailDelivery(p)).toEqual([{ state: 'pending', attempts: 0 }]);
    await first.kill();
    expect(p.smtp.mails).toHaveLength(0);

    const second = await server(p, QUIET_OVER);
    await eventually(() => p.smtp.mails.length > 0, 'the e-mail after the restart');
    // A kill between the SMTP server's acceptance and this record would send the mail again
    // (with the same Message-ID): SMTP has no idempotency. That window is not this test's.
    await eventually(() => mailRecorded(p), 'the e-mail recorded as sent');
    await second.kill();
    // And another restart (the delivery now waits for its reminder) sends nothing more.
    const third = await server(p, QUIET_OVER + 60_000);
    await sleep(1500);
    await third.stop();
    expect(p.smtp.mails).toHaveLength(1);
    expect(await emailDelivery(p)).toEqual([{ state: 'pending', attempts: 0 }]);
  }, 90_000);

  it('a process killed in the middle of the SMTP exchange leaves the e-mail to its successor, which sends it once', async () => {
    const p = await practice();
    const first = await server(p, 0);
    await sendThrough(p, first);
    await first.kill();
    // The quiet period is over for the next process, whose SMTP exchange never finishes.
    p.smtp.hold = true;
    const second = await server(p, QUIET_OVER);
    await eventually(() => p.smtp.held > 0, 'the e-mail reached the SMTP server');
    await second.kill();
    p.smtp.hold = false;
    expect(p.smtp.mails).toHaveLength(0);

    const third = await server(p, QUIET_OVER);
    await eventually(() => p.smtp.mails.length > 0, 'the e-mail after the restart');
    await sleep(1000);
    await third.stop();
    expect(p.smtp.mails).toHaveLength(1);
    expect(await emailDelivery(p)).toEqual([{ state: 'pending', attempts: 0 }]);
  }, 90_000);
});
