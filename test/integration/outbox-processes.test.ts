import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/database.js';
import { createTestStore, type TestStore } from '../support/app.js';
import { buildPatient, buildPractitioner, startMessagingApp } from '../support/factories.js';
import { ServerProcess } from '../support/server-process.js';

/**
 * Real server processes (test/support/outbox-server.ts: buildApp with a counting
 * processor) on one store, killed with SIGKILL where the test says so.
 */
const onPostgres = process.env.TEST_DATABASE_URL?.startsWith('postgres') ?? false;
if (!onPostgres)
  process.stdout.write(
    'outbox-processes.test.ts: two processes on one store need PostgreSQL; that test runs in the postgres tier\n',
  );

const ENTRY = 'test/support/outbox-server.ts';
const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
}, 30_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, what: string) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not in time`);
    await sleep(25);
  }
}

interface Practice {
  store: TestStore;
  log: string;
  patient: { cookie: string; csrf: string };
  practitionerId: string;
}

/** A store with a patient and a practitioner; their sessions live in it, so any process takes them. */
async function practice(): Promise<Practice> {
  const store = await createTestStore();
  cleanup.push(() => store.drop());
  const dir = mkdtempSync(join(tmpdir(), 'carechat-outbox-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const seed = await startMessagingApp({ store });
  const patient = await buildPatient(seed);
  const practitioner = await buildPractitioner(seed);
  await seed.stop();
  return {
    store,
    log: join(dir, 'processed.log'),
    patient: { cookie: patient.client.cookie, csrf: patient.client.csrfToken },
    practitionerId: practitioner.user.id,
  };
}

async function server(p: Practice, env: Record<string, string>): Promise<ServerProcess> {
  const proc = await ServerProcess.start(ENTRY, {
    DATABASE_URL: p.store.url,
    DATABASE_POOL_SIZE: '3',
    OUTBOX_TEST_LOG: p.log,
    ...env,
  });
  cleanup.push(() => proc.stop());
  return proc;
}

/** Requests an appointment through one process; answers its id once committed. */
async function request(p: Practice, proc: ServerProcess): Promise<string> {
  const res = await fetch(`${proc.url}/api/appointments`, {
    method: 'POST',
    headers: {
      cookie: p.patient.cookie,
      'x-csrf-token': p.patient.csrf,
      'content-type': 'application/json',
      origin: proc.url,
    },
    body: JSON.stringify({
      practitionerId: p.practitionerId,
      startsAt: new Date(Date.now() + 86_400_000).toISOString(),
      reason: 'Knee pain after a fall',
    }),
  });
  expect(res.status, proc.log).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

/** The processor's lines, as written: `word pid key`. */
function lines(p: Practice): { word: string; pid: number; key: string }[] {
  if (!existsSync(p.log)) return [];
  return readFileSync(p.log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [word, pid, key] = l.split(' ');
      return { word: word!, pid: Number(pid), key: key! };
    });
}

/** The counter's delivery for the event about this appointment. */
async function delivery(p: Practice, appointmentId: string) {
  const database = openDatabase(p.store.url, { poolSize: 1 });
  try {
    return await database.db
      .selectFrom('event_deliveries as d')
      .innerJoin('events as e', 'e.id', 'd.event_id')
      .select(['d.state', 'd.attempts', 'd.event_id'])
      .where('d.processor', '=', 'test-counter')
      .where('e.subject_id', '=', appointmentId)
      .executeTakeFirst();
  } finally {
    await database.close();
  }
}

describe('outbox across real processes', () => {
  it('an event committed before a kill -9 and not yet processed is processed exactly once after restart', async () => {
    const p = await practice();
    // The first process takes the event into its handler and hangs there: committed, not processed.
    const first = await server(p, { OUTBOX_TEST_MODE: 'hold' });
    const appointmentId = await request(p, first);
    const held = await eventually(
      () => lines(p).find((l) => l.word === 'hold'),
      'the event reached the processor',
    );
    expect(held.pid).toBe(first.pid);
    await first.kill();
    expect(await delivery(p, appointmentId)).toMatchObject({ state: 'pending', attempts: 0 });

    const second = await server(p, { OUTBOX_TEST_MODE: 'count' });
    await eventually(
      async () => (await delivery(p, appointmentId))?.state === 'done',
      'processed after the restart',
    );
    const doneFor = (key: string) => lines(p).filter((l) => l.word === 'done' && l.key === key);
    expect(doneFor(held.key).map((l) => l.pid)).toEqual([second.pid]);

    // Later rounds and another restart do not process it again: a newer event goes
    // through after each, and the first is still counted once.
    const later = await request(p, second);
    await eventually(async () => (await delivery(p, later))?.state === 'done', 'a later event');
    await second.stop();
    const third = await server(p, { OUTBOX_TEST_MODE: 'count' });
    const last = await request(p, third);
    await eventually(async () => (await delivery(p, last))?.state === 'done', 'after a restart');
    expect(doneFor(held.key)).toHaveLength(1);
    expect(lines(p).filter((l) => l.word === 'done')).toHaveLength(3);
  }, 90_000);

  it.skipIf(!onPostgres)(
    'two processes on PostgreSQL never run the same processor at once, and each event once',
    async () => {
      const p = await practice();
      const env = { OUTBOX_TEST_MODE: 'count', OUTBOX_TEST_WORK_MS: '20' };
      const [a, b] = await Promise.all([server(p, env), server(p, env)]);
      const ids: string[] = [];
      // Events committed through both processes, some at the same moment.
      for (let i = 0; i < 10; i++) ids.push(...(await Promise.all([request(p, a), request(p, b)])));
      await eventually(
        () => lines(p).filter((l) => l.word === 'done').length >= ids.length || undefined,
        'every event processed',
      );
      // Wait for rounds that might repeat one, then look at the whole record.
      const extra = await request(p, b);
      await eventually(async () => (await delivery(p, extra))?.state === 'done', 'one more');
      const all = lines(p);
      // Strictly start, done, start, done…, each pair one event in one process: no overlap.
      for (let i = 0; i < all.length; i += 2) {
        expect(all[i]!.word).toBe('start');
        expect(all[i + 1]).toMatchObject({ word: 'done', key: all[i]!.key, pid: all[i]!.pid });
      }
      const keys = all.filter((l) => l.word === 'done').map((l) => l.key);
      expect(keys).toHaveLength(ids.length + 1);
      expect(new Set(keys).size).toBe(keys.length);
      for (const pid of all.map((l) => l.pid)) expect([a.pid, b.pid]).toContain(pid);
    },
    90_000,
  );
});
