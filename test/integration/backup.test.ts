import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/domain/clock.js';
import type { MessageWire } from '../../src/shared/wire.js';
import { BackupError, backupSqlite, restoreSqlite } from '../../src/store/backup.js';
import type { TestApp, TestClient, TestStore } from '../support/app.js';
import { startMessagingApp } from '../support/factories.js';
import { WsClient, buildConversation, postMessage } from '../support/ws-client.js';

const postgresTier = process.env.TEST_DATABASE_URL?.startsWith('postgres') ?? false;
if (postgresTier)
  process.stdout.write(
    'backup.test.ts: skipped in the postgres tier: online backup is for SQLite stores (PostgreSQL uses pg_dump, docs/DEPLOY.md), tested in the sqlite tier\n',
  );

const ROOT = new URL('../../', import.meta.url).pathname;
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function sqliteStore(): TestStore & { path: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'carechat-backup-'));
  dirs.push(dir);
  const path = join(dir, 'carechat.db');
  return { dir, path, url: `sqlite:${path}`, drop: () => Promise.resolve() };
}

/** `npm run <script> -- args` as an operator types it, against the store DATABASE_URL names. */
function npmRun(
  script: 'backup' | 'restore',
  args: string[],
  databaseUrl: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // Nothing of carechat's configuration leaks in from the test runner's environment.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^(PORT|HOST|METRICS_|DATABASE_|REDIS_|DEMO|LOG_LEVEL|TEST_)/.test(k),
    ),
  );
  return new Promise((resolve, reject) => {
    const child = spawn('npm', ['run', '--silent', script, '--', ...args], {
      cwd: ROOT,
      env: { ...env, DATABASE_URL: databaseUrl },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every message of a room, read over HTTP as one of its participants. */
async function history(client: TestClient, roomId: string): Promise<MessageWire[]> {
  const all: MessageWire[] = [];
  for (;;) {
    const res = await client.get(
      `/api/rooms/${roomId}/messages?after=${all.at(-1)?.seq ?? 0}&limit=200`,
    );
    expect(res.statusCode, res.body).toBe(200);
    const page = res.json<{ messages: MessageWire[]; hasMore: boolean }>();
    all.push(...page.messages);
    if (!page.hasMore || page.messages.length === 0) return all;
  }
}

describe.skipIf(postgresTier)(
  'online backup of an SQLite store while messages are being sent',
  () => {
    it('keeps every message acknowledged before the backup started, and the restored store serves them', async () => {
      const source = sqliteStore();
      // Under the socket's command rate limit (50/s), however fast the acks come back.
      const pace = () => new Promise((r) => setTimeout(r, 25));
      // The real clock: the socket's command budget refills with time, as in production.
      const t = await startMessagingApp({ listen: true, store: source, clock: systemClock });
      let running = true;
      let sending = true;
      let restored: TestApp | undefined;
      try {
        const c = await buildConversation(t);
        // A profile photo: files live in the store, so the backup must carry them.
        const photo = { id: randomUUID(), data: randomBytes(200 * 1024) };
        await t.services.store.system().files.insert({
          id: photo.id,
          owner_id: c.patient.id,
          content_type: 'image/png',
          byte_size: photo.data.length,
          data: photo.data,
          created_at: t.clock.now(),
        });
        // As the patient's own photo, so the patient may read it back.
        await t.services.database.db
          .updateTable('users')
          .set({ photo_file_id: photo.id })
          .where('id', '=', c.patient.id)
          .execute();

        const acked: string[] = [];
        // The patient sends over a real WebSocket, one message after the other's ack.
        const ws = await WsClient.live(t.url, c.patientClient.cookie);
        const overWs = (async () => {
          for (let i = 0; sending; i++) {
            const clientId = randomUUID();
            ws.send({ type: 'send', roomId: c.roomId, clientId, body: `patient message ${i}` });
            const ack = await ws.nextOf('ack', (e) => e.clientId === clientId, 15_000);
            acked.push(ack.message.id);
            await pace();
          }
        })();
        // The practitioner sends over real HTTP at the same time.
        const overHttp = (async () => {
          for (let i = 0; sending; i++) {
            const res = await fetch(`${t.url}/api/rooms/${c.roomId}/messages`, {
              method: 'POST',
              headers: {
                cookie: c.practitionerClient.cookie,
                'x-csrf-token': c.practitionerClient.csrfToken,
                origin: t.url,
                'content-type': 'application/json',
              },
              body: JSON.stringify({ clientId: randomUUID(), body: `practitioner message ${i}` }),
            });
            expect(res.status).toBe(201);
            acked.push(((await res.json()) as MessageWire).id);
            await pace();
          }
        })();

        while (acked.length < 40) await new Promise((r) => setTimeout(r, 20));
        const ackedBeforeBackup = [...acked];
        const backupFile = join(source.dir, 'backup.db');
        const backup = await npmRun('backup', ['--to', backupFile], source.url);
        const ackedDuringBackup = acked.length - ackedBeforeBackup.length;
        sending = false;
        await Promise.all([overWs, overHttp]);
        await ws.close();
        expect(backup.stderr).toBe('');
        expect(backup.code).toBe(0);
        expect(backup.stdout).toMatch(
          /^Backed up sqlite:.* to .*backup\.db: \d+ users, \d+ messages, 1 files/,
        );
        // The server kept committing while the copy was taken: that is what "online" means.
        expect(ackedDuringBackup).toBeGreaterThan(0);
        running = false;
        await t.stop();

        const target = sqliteStore();
        const restore = await npmRun('restore', ['--from', backupFile], target.url);
        expect(restore.stderr).toBe('');
        expect(restore.code).toBe(0);
        expect(restore.stdout).toContain(`into ${target.path}`);

        restored = await startMessagingApp({ store: target });
        const patient = await restored.login(c.patient);
        const messages = await history(patient, c.roomId);
        const ids = new Set(messages.map((m) => m.id));
        const missing = ackedBeforeBackup.filter((id) => !ids.has(id));
        expect(missing).toEqual([]);
        // A consistent copy: the room's sequence has no holes.
        expect(messages.map((m) => m.seq)).toEqual(messages.map((_, i) => i + 1));
        const file = await patient.get(`/api/files/${photo.id}`);
        expect(file.statusCode).toBe(200);
        expect(Buffer.compare(file.rawPayload, photo.data)).toBe(0);
        // The restored store keeps working: a new message continues the sequence.
        const next = await postMessage(patient, c.roomId, 'Back after the restore');
        expect(next.seq).toBe(messages.length + 1);
      } finally {
        sending = false;
        await restored?.stop();
        if (running) await t.stop();
      }
    });
  },
);

describe.skipIf(postgresTier)('restore refuses what it cannot restore safely', () => {
  let practice: ReturnType<typeof sqliteStore>;
  let backupFile: string;
  beforeAll(async () => {
    practice = sqliteStore();
    const t = await startMessagingApp({ store: practice });
    const c = await buildConversation(t);
    await postMessage(c.patientClient, c.roomId, 'Only message');
    await t.stop();
    backupFile = join(practice.dir, 'practice-backup.db');
    const summary = await backupSqlite(practice.url, backupFile);
    expect(summary).toMatchObject({ users: 2, messages: 1, files: 0 });
  });

  const messageCount = (path: string): number => {
    const db = new SqliteDatabase(path, { readonly: true });
    try {
      return db.prepare<[], { n: number }>('select count(*) as n from messages').get()!.n;
    } finally {
      db.close();
    }
  };

  it('refuses a store that holds data unless --force, and replaces it with --force', async () => {
    const other = sqliteStore();
    const t = await startMessagingApp({ store: other });
    const c = await buildConversation(t);
    await postMessage(c.patientClient, c.roomId, 'One');
    await postMessage(c.patientClient, c.roomId, 'Two');
    await t.stop();

    await expect(restoreSqlite(backupFile, other.url)).rejects.toThrow(
      /is not empty \(.*messages.*\); pass --force/,
    );
    expect(messageCount(other.path)).toBe(2);
    const cli = await npmRun('restore', ['--from', backupFile], other.url);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain('pass --force to replace it');
    expect(messageCount(other.path)).toBe(2);

    await restoreSqlite(backupFile, other.url, { force: true });
    expect(messageCount(other.path)).toBe(1);
  });

  it('refuses a store a running server has open, even with --force', async () => {
    const live = sqliteStore();
    const t = await startMessagingApp({ store: live });
    try {
      await expect(restoreSqlite(backupFile, live.url, { force: true })).rejects.toThrow(
        /is in use: stop carechat before restoring/,
      );
    } finally {
      await t.stop();
    }
  });

  it('refuses a damaged backup and leaves the store alone', async () => {
    const damaged = join(practice.dir, 'damaged.db');
    copyFileSync(backupFile, damaged);
    // Overwrite the pages after the header with noise.
    const fd = openSync(damaged, 'r+');
    writeSync(fd, randomBytes(16 * 1024), 0, 16 * 1024, 4096);
    const target = sqliteStore();
    await expect(restoreSqlite(damaged, target.url)).rejects.toThrow(BackupError);
    await expect(restoreSqlite(damaged, target.url)).rejects.toThrow(/damaged|not an SQLite/);
    expect(existsSync(target.path)).toBe(false);
  });

  it('refuses a backup made by a newer carechat (a migration this code does not know)', async () => {
    const newer = join(practice.dir, 'newer.db');
    copyFileSync(backupFile, newer);
    const db = new SqliteDatabase(newer);
    db.prepare('insert into kysely_migration (name, timestamp) values (?, ?)').run(
      '9999-from-the-future',
      new Date().toISOString(),
    );
    db.close();
    const target = sqliteStore();
    await expect(restoreSqlite(newer, target.url)).rejects.toThrow(
      /newer carechat \(unknown migration 9999-from-the-future\)/,
    );
    expect(existsSync(target.path)).toBe(false);
  });

  it('refuses to back up a PostgreSQL store, pointing at pg_dump', async () => {
    await expect(
      backupSqlite('postgres://carechat@db/carechat', join(practice.dir, 'x.db')),
    ).rejects.toThrow(/pg_dump/);
  });
});
