import pg from 'pg';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { migrateToLatest, openDatabase, type Database } from '../../src/store/database.js';
import { Store } from '../../src/store/store.js';
import { ManualClock } from '../../src/domain/clock.js';
import { expiredSessionSweep, JobScheduler, type Job } from '../../src/server/jobs.js';
import { createTestStore, startTestApp, type TestStore } from '../support/app.js';

const onPostgres = process.env.TEST_DATABASE_URL?.startsWith('postgres') ?? false;
if (!onPostgres) {
  process.stdout.write(
    'jobs.test.ts: the cross-process runner tests need PostgreSQL and run in the postgres tier (TEST_DATABASE_URL)\n',
  );
}

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function store(): Promise<{ test: TestStore; database: Database }> {
  const test = await createTestStore();
  const database = openDatabase(test.url, { poolSize: 3 });
  await migrateToLatest(database);
  cleanup.push(() => test.drop());
  cleanup.push(() => database.close());
  return { test, database };
}

function scheduler(test: TestStore, database: Database, jobs: Job[]): JobScheduler {
  const s = new JobScheduler({ database, databaseUrl: test.url, log, jobs, lockCheckMs: 50 });
  s.start();
  cleanup.push(() => s.stop());
  return s;
}

async function eventually(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A job that notices if it ever runs twice at once, wherever it runs. */
function watchedJob(name = 'watched') {
  const state = { active: 0, maxActive: 0, runs: 0 };
  const job: Job = {
    name,
    everyMs: 15,
    run: async () => {
      state.active += 1;
      state.maxActive = Math.max(state.maxActive, state.active);
      state.runs += 1;
      await sleep(10);
      state.active -= 1;
    },
  };
  return { job, state };
}

describe('background jobs', () => {
  it('the app sweeps expired sessions: an idle session is removed, a fresh one stays', async () => {
    const clock = new ManualClock(Date.now());
    const app = await startTestApp({ clock });
    cleanup.push(() => app.stop());
    const idle = await app.createUser('patient');
    const fresh = await app.createUser('patient');
    const idleClient = await app.login(idle);
    clock.advance(app.config.sessionIdleMs + 60_000);
    const freshClient = await app.login(fresh);
    await eventually(() => app.jobs.isRunner);
    expect(await app.jobs.runNow('expired-session-sweep')).toBe(true);
    expect((await idleClient.get('/api/auth/session')).statusCode).toBe(401);
    expect((await freshClient.get('/api/auth/session')).statusCode).toBe(200);
    const rows = await app.services.store.db.selectFrom('sessions').select('user_id').execute();
    expect(rows.map((r) => r.user_id)).toEqual([fresh.id]);
  });

  it('a sweep job on its own deletes exactly the expired sessions', async () => {
    const { test, database } = await store();
    const s = Store.from(database);
    const clock = new ManualClock(1_000_000);
    const sweep = expiredSessionSweep({
      store: s,
      clock,
      log,
      session: { idleMs: 100, absoluteMs: 1000 },
    });
    const now = Date.now();
    await s.users.insert({
      id: 'u',
      role: 'patient',
      email: 'u@example.com',
      email_lower: 'u@example.com',
      name: 'U',
      password_hash: 'x',
      date_of_birth: null,
      specialty: null,
      working_hours: null,
      out_of_office: null,
      photo_file_id: null,
      disabled_at: null,
      created_at: now,
      updated_at: now,
    });
    for (const [id, created, seen] of [
      ['live', 999_500, 999_950],
      ['idle', 999_500, 999_800],
      ['old', 998_000, 999_990],
    ] as const) {
      await s.sessions.insert({
        id_hash: id,
        user_id: 'u',
        csrf_token: 'c',
        created_at: created,
        last_seen_at: seen,
        ip: null,
        user_agent: null,
      });
    }
    const runner = scheduler(test, database, [sweep]);
    await eventually(() => runner.isRunner);
    await runner.runNow('expired-session-sweep');
    const left = await s.db.selectFrom('sessions').select('id_hash').execute();
    expect(left.map((r) => r.id_hash)).toEqual(['live']);
  });
});

describe.skipIf(!onPostgres)('background jobs across processes (PostgreSQL)', () => {
  it('two schedulers on one store: exactly one runs the jobs, never two at once', async () => {
    const { test, database } = await store();
    const second = openDatabase(test.url, { poolSize: 2 });
    cleanup.push(() => second.close());
    const { job, state } = watchedJob();
    const a = scheduler(test, database, [job]);
    const b = scheduler(test, second, [job]);
    await eventually(() => a.isRunner || b.isRunner);
    await sleep(600);
    expect([a.isRunner, b.isRunner].filter(Boolean)).toHaveLength(1);
    expect(state.runs).toBeGreaterThan(5);
    expect(state.maxActive).toBe(1);
  });

  it('another process takes over when the runner stops or loses its connection', async () => {
    const { test } = await store();
    const { job, state } = watchedJob();
    const schedulers = [0, 1, 2].map(() => {
      const db = openDatabase(test.url, { poolSize: 1 });
      cleanup.push(() => db.close());
      return scheduler(test, db, [job]);
    });
    await eventually(() => schedulers.some((s) => s.isRunner));
    const first = schedulers.find((s) => s.isRunner)!;
    await first.stop();
    await eventually(() => schedulers.some((s) => s !== first && s.isRunner));
    const second = schedulers.find((s) => s.isRunner)!;

    // Its connection dies (PostgreSQL restarted it, a network cut): the lock goes with it.
    const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    cleanup.push(() => admin.end());
    await admin.query(
      `select pg_terminate_backend(l.pid) from pg_locks l
        where l.locktype = 'advisory' and l.granted
          and l.classid = hashtext('carechat:jobs')::oid and l.objid = hashtext($1)::oid`,
      [new URL(test.url).searchParams.get('schema')],
    );
    await eventually(() => !second.isRunner);
    await eventually(() => schedulers.some((s) => s.isRunner));
    await sleep(300);
    expect(schedulers.filter((s) => s.isRunner)).toHaveLength(1);
    expect(state.maxActive).toBe(1);
  });

  it('practices in separate schemas of one database each get their own runner', async () => {
    const one = await store();
    const two = await store();
    const a = scheduler(one.test, one.database, [watchedJob().job]);
    const b = scheduler(two.test, two.database, [watchedJob().job]);
    await eventually(() => a.isRunner && b.isRunner);
  });
});
