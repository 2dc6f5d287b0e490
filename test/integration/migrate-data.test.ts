import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createDemoPractice } from '../../src/server/demo.js';
import { migrateData } from '../../src/store/copy-data.js';
import { verifyChain } from '../../src/domain/audit/verify.js';
import { openDatabase, type Database } from '../../src/store/database.js';
import { Store } from '../../src/store/store.js';
import { createTestStore, startTestApp, type TestStore } from '../support/app.js';

const pgUrl = process.env.TEST_DATABASE_URL?.startsWith('postgres')
  ? process.env.TEST_DATABASE_URL
  : undefined;
if (!pgUrl) {
  process.stdout.write(
    'migrate-data.test.ts: the SQLite-to-PostgreSQL copy is tested in the postgres tier only (TEST_DATABASE_URL)\n',
  );
}

const DEMO_PASSWORD = 'demo password for the copy';
const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

/** A SQLite practice with the demo data, some sign-ins (sessions, audit) and a rate-limit row. */
async function demoSqlitePractice(): Promise<TestStore> {
  const dir = mkdtempSync(join(tmpdir(), 'carechat-migrate-'));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const store: TestStore = { url: `sqlite:${join(dir, 'carechat.db')}`, drop: async () => {} };
  const app = await startTestApp({ store, env: { DEMO: 'false' } });
  await createDemoPractice(app.services, DEMO_PASSWORD);
  await app.login({ email: 'carol.anderson@example.com' }, DEMO_PASSWORD);
  await app.login({ email: 'emily.davis@example.com' }, DEMO_PASSWORD);
  await app.app.inject({
    method: 'POST',
    url: '/api/auth/login',
    headers: { origin: app.config.publicOrigin },
    payload: { email: 'carol.anderson@example.com', password: 'wrong password!' },
  });
  await app.stop();
  return store;
}

function open(url: string): Database {
  const d = openDatabase(url, { poolSize: 2 });
  cleanup.push(() => d.close());
  return d;
}

type Row = Record<string, unknown>;
async function rows(d: Database, table: string, orderBy: string): Promise<Row[]> {
  const db = d.db as unknown as import('kysely').Kysely<Record<string, Row>>;
  const out = await db.selectFrom(table).selectAll().orderBy(orderBy).execute();
  // Binary columns come back as Buffer from both drivers; compare them by content.
  return out.map((r) =>
    Object.fromEntries(
      Object.entries(r).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('base64') : v]),
    ),
  );
}

const TABLES: [string, string][] = [
  ['files', 'id'],
  ['users', 'id'],
  ['sessions', 'id_hash'],
  ['audit_events', 'id'],
  ['appointments', 'id'],
  ['rooms', 'id'],
  ['room_members', 'room_id'],
  ['messages', 'id'],
  ['rate_limits', 'key'],
  ['events', 'id'],
  ['event_deliveries', 'id'],
  ['attachments', 'id'],
  ['attachment_chunks', 'blob_key'],
  ['attachment_links', 'token_hash'],
  ['blob_intents', 'blob_key'],
  ['notification_preferences', 'user_id'],
  ['notification_state', 'room_id'],
  // The VAPID key pair travels with the practice, so its browsers' subscriptions still work.
  ['push_subscriptions', 'endpoint'],
  ['push_keys', 'id'],
];

describe.skipIf(!pgUrl)('migrate-data: SQLite practice to PostgreSQL', () => {
  it('copies every table of the demo practice with ids, audit ids and files intact, and the copy works', async () => {
    const sqlite = await demoSqlitePractice();
    const target = await createTestStore();
    cleanup.push(() => target.drop());

    const copied = await migrateData({ from: sqlite.url, to: target.url, batchSize: 7 });
    const src = open(sqlite.url);
    const dst = open(target.url);
    for (const [table, key] of TABLES) {
      const a = await rows(src, table, key);
      const b = await rows(dst, table, key);
      expect(copied.get(table), table).toBe(a.length);
      expect(b.length, table).toBe(a.length);
      // Rows compared whole (a sample would do for large tables; the demo is small enough for all).
      const byKey = (r: Row[]) =>
        [...r].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
      expect(byKey(b), table).toEqual(byKey(a));
    }
    expect(copied.get('users')).toBe(9);
    expect(copied.get('messages')).toBeGreaterThanOrEqual(10);
    expect(copied.get('rooms')).toBeGreaterThanOrEqual(5);
    expect(copied.get('audit_events')).toBeGreaterThan(0);
    expect([...copied.keys()].sort()).toEqual(TABLES.map(([t]) => t).sort());
    // The audit rows came with their hashes: the copy's chain verifies, to the same head.
    const [srcChain, dstChain] = await Promise.all([
      verifyChain(Store.from(src)),
      verifyChain(Store.from(dst)),
    ]);
    expect(srcChain.ok).toBe(true);
    expect(dstChain).toEqual({
      ok: true,
      checked: copied.get('audit_events'),
      head: srcChain.head,
    });

    // The practice runs on the copy: Carol signs in with her password and sees her rooms.
    const app = await startTestApp({ store: target });
    cleanup.push(() => app.stop());
    const carol = await app.login({ email: 'carol.anderson@example.com' }, DEMO_PASSWORD);
    const rooms = await carol.get('/api/rooms');
    expect(rooms.statusCode).toBe(200);
    expect(rooms.json<unknown[]>().length).toBeGreaterThan(0);
    // New audit rows continue after the copied ids.
    const maxCopied = Math.max(...(await rows(src, 'audit_events', 'id')).map((r) => Number(r.id)));
    const newest = await app.services.store.audit.list({ limit: 1 });
    expect(newest[0]!.id).toBeGreaterThan(maxCopied);
  });

  it('refuses a target that holds data unless forced, and then replaces it', async () => {
    const sqlite = await demoSqlitePractice();
    const target = await createTestStore();
    cleanup.push(() => target.drop());
    await migrateData({ from: sqlite.url, to: target.url });
    await expect(migrateData({ from: sqlite.url, to: target.url })).rejects.toThrow(
      /target is not empty.*--force/,
    );
    const again = await migrateData({ from: sqlite.url, to: target.url, force: true });
    const dst = open(target.url);
    expect((await rows(dst, 'users', 'id')).length).toBe(again.get('users'));
    expect((await rows(dst, 'messages', 'id')).length).toBe(again.get('messages'));
  });

  it('runs as npm run migrate-data with --from and --to, and explains bad arguments', async () => {
    const sqlite = await demoSqlitePractice();
    const target = await createTestStore();
    cleanup.push(() => target.drop());
    const run = promisify(execFile);
    const { stdout } = await run(
      'npm',
      ['run', '--silent', 'migrate-data', '--', '--from', sqlite.url, '--to', target.url],
      { cwd: process.cwd() },
    );
    expect(stdout).toMatch(/users: 9 rows/);
    expect(stdout).toMatch(/Done: \d+ tables/);
    const failed = await run('npm', [
      'run',
      '--silent',
      'migrate-data',
      '--',
      '--from',
      sqlite.url,
    ]).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 2 });
    expect((failed as { stderr: string }).stderr).toMatch(/both --from and --to are required/);
  });
});
