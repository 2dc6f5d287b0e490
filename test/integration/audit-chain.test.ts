import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditAnchorJob } from '../../src/server/audit-jobs.js';
import type { Checkpoint } from '../../src/domain/audit/checkpoint.js';
import type { AuditVerdictWire } from '../../src/shared/audit-wire.js';
import { chainHash } from '../../src/store/audit-chain.js';
import type { TestApp } from '../support/app.js';
import { runAuditVerify, tempJsonFile } from '../support/audit-cli.js';
import {
  auditRows,
  buildAdmin,
  buildPatient,
  buildPractitioner,
  requestAppointment,
  startMessagingApp,
  type Person,
} from '../support/factories.js';

const SIGNING_KEY = randomBytes(32).toString('base64');

let t: TestApp;
let admin: Person;
let patient: Person;
let doctor: Person;
const onPostgres = () => t.services.database.dialect === 'postgres';

beforeAll(async () => {
  t = await startMessagingApp({ env: { AUDIT_SIGNING_KEY: SIGNING_KEY } });
  admin = await buildAdmin(t);
  patient = await buildPatient(t);
  doctor = await buildPractitioner(t);
  for (let i = 0; i < 3; i++) await requestAppointment(t, patient, doctor);
});
afterAll(async () => {
  await t.stop();
});

const cliEnv = () => ({ DATABASE_URL: t.store.url, AUDIT_SIGNING_KEY: SIGNING_KEY });
const db = () => t.services.store.db;

/** What someone with the database's password, not the server's, can do: lift the guard by hand. */
async function dropGuard(): Promise<void> {
  if (onPostgres()) {
    await sql`drop trigger audit_events_no_change on audit_events`.execute(db());
    await sql`drop trigger audit_events_no_truncate on audit_events`.execute(db());
  } else {
    await sql`drop trigger audit_events_no_update`.execute(db());
    await sql`drop trigger audit_events_no_delete`.execute(db());
  }
}

async function verifyOverHttp(): Promise<AuditVerdictWire> {
  const res = await admin.client.get('/api/admin/audit/verify');
  expect(res.statusCode).toBe(200);
  return res.json<AuditVerdictWire>();
}

describe('the audit hash chain', () => {
  it('chains every row to the one before and verifies over HTTP and from the command line', async () => {
    const rows = await auditRows(t);
    expect(rows.length).toBeGreaterThan(5);
    expect(rows[0]!.prev_hash).toBe('0'.repeat(64));
    for (let i = 1; i < rows.length; i++) {
      expect(rows[i]!.prev_hash).toBe(rows[i - 1]!.hash);
      expect(rows[i]!.hash).toBe(chainHash(rows[i - 1]!.hash!, rows[i]!));
    }
    const verdict = await verifyOverHttp();
    expect(verdict).toEqual({ ok: true, checked: rows.length, headId: String(rows.at(-1)!.id) });
    // The verification is itself on the trail, after what it checked.
    const [row] = await auditRows(t, { action: 'audit.verify' });
    expect(row).toMatchObject({ actor_id: admin.user.id, target_id: verdict.headId });

    const cli = await runAuditVerify(cliEnv());
    expect(cli.stderr).toBe('');
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/^audit chain intact: \d+ rows, head row \d+ [0-9a-f]{64}/);
  });

  it('refuses to edit or delete a row, even for the server', async () => {
    const [first] = await auditRows(t);
    await expect(
      db()
        .updateTable('audit_events')
        .set({ ip: '10.0.0.1' })
        .where('id', '=', first!.id)
        .execute(),
    ).rejects.toThrow(/append-only/);
    await expect(
      db().deleteFrom('audit_events').where('id', '=', first!.id).execute(),
    ).rejects.toThrow(/append-only/);
    if (onPostgres())
      await expect(sql`truncate audit_events`.execute(db())).rejects.toThrow(/append-only/);
    expect(await auditRows(t)).toContainEqual(first);
  });

  it('signs a checkpoint of the head, audited, that the command line accepts', async () => {
    const res = await admin.client.get('/api/admin/audit/checkpoint');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="carechat-audit-/);
    const cp = res.json<Checkpoint>();
    // The checkpoint covers its own download.
    const head = (await auditRows(t)).at(-1)!;
    expect(head).toMatchObject({ action: 'audit.checkpoint', actor_id: admin.user.id });
    expect(cp).toMatchObject({ headId: String(head.id), headHash: head.hash, alg: 'Ed25519' });

    const ok = await runAuditVerify(cliEnv(), ['--checkpoint', tempJsonFile(cp)]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`checkpoint of row ${cp.headId}`);

    // A checkpoint whose head was moved is no longer the server's signature.
    const forged = { ...cp, headId: String(Number(cp.headId) - 1) };
    const bad = await runAuditVerify(cliEnv(), ['--checkpoint', tempJsonFile(forged)]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/not signed by this server/);
    // Nor is a checkpoint signed with another key.
    const other = await runAuditVerify(
      { ...cliEnv(), AUDIT_SIGNING_KEY: randomBytes(32).toString('base64') },
      ['--checkpoint', tempJsonFile(cp)],
    );
    expect(other.code).toBe(1);
  });

  it('anchors the head in the log at intervals, as a checkpoint the command line accepts', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const job = auditAnchorJob({
      store: t.services.store,
      signer: t.services.auditSigner,
      clock: t.clock,
      log: pino({ level: 'info' }, sink),
      everyMs: 60_000,
    });
    await job.run();
    await job.run(); // the head did not move: nothing new to anchor
    await requestAppointment(t, patient, doctor);
    await job.run();
    expect(lines).toHaveLength(2);
    const logged = lines.map((l) => JSON.parse(l) as { msg: string; auditCheckpoint: Checkpoint });
    expect(logged.map((l) => l.msg)).toEqual(['audit chain head', 'audit chain head']);
    const head = (await t.services.store.audit.head())!;
    expect(logged[1]!.auditCheckpoint).toMatchObject({
      headId: String(head.id),
      headHash: head.hash,
    });
    // The log line itself, saved to a file, is what audit:verify takes.
    const cli = await runAuditVerify(cliEnv(), ['--checkpoint', tempJsonFile(logged[0])]);
    expect(cli.code, cli.stderr).toBe(0);
  });

  it('hides nothing when the guard is lifted by hand: an edited row breaks the chain, cut-off rows break the checkpoint', async () => {
    const checkpoint = (await admin.client.get('/api/admin/audit/checkpoint')).json<Checkpoint>();
    // More happens after the checkpoint was taken.
    await requestAppointment(t, patient, doctor);
    await requestAppointment(t, patient, doctor);
    const rows = await auditRows(t);
    const victim = rows[Math.floor(rows.length / 2)]!;

    await dropGuard();
    await db()
      .updateTable('audit_events')
      .set({ ip: '203.0.113.9' })
      .where('id', '=', victim.id)
      .execute();
    const edited = await runAuditVerify(cliEnv());
    expect(edited.code).toBe(1);
    expect(edited.stderr).toContain(`audit chain BROKEN at row ${victim.id}:`);
    expect(edited.stderr).toContain('was changed');
    expect(await verifyOverHttp()).toMatchObject({
      ok: false,
      firstBrokenId: String(victim.id),
      problem: 'hash',
    });
    // Put it back: the chain verifies again, so what follows is about truncation alone.
    await db()
      .updateTable('audit_events')
      .set({ ip: victim.ip })
      .where('id', '=', victim.id)
      .execute();
    expect((await verifyOverHttp()).ok).toBe(true);

    // Cut off the newest rows, down to before the checkpoint's head. What remains is a
    // perfectly consistent chain; only the checkpoint shows that rows are gone.
    const cutFrom = Number(checkpoint.headId) - 2;
    await db().deleteFrom('audit_events').where('id', '>=', cutFrom).execute();
    const alone = await runAuditVerify(cliEnv());
    expect(alone.code).toBe(0);
    const against = await runAuditVerify(cliEnv(), ['--checkpoint', tempJsonFile(checkpoint)]);
    expect(against.code).toBe(1);
    expect(against.stderr).toContain(`audit chain BROKEN at row ${cutFrom}:`);
    expect(against.stderr).toContain('no longer there');
  });
});

describe('the demo reset', () => {
  it('empties the trail by its privileged path, restores the guard and starts a chain that names the old head', async () => {
    const app = await startMessagingApp();
    try {
      const p = await buildPatient(app);
      const d = await buildPractitioner(app);
      await requestAppointment(app, p, d);
      const oldHead = (await app.services.store.audit.head())!;
      await app.services.store.resetAll(app.clock.now());
      const rows = await auditRows(app);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        id: 1,
        action: 'audit.chain_reset',
        prev_hash: '0'.repeat(64),
      });
      expect(JSON.parse(rows[0]!.detail!)).toEqual({
        previousHeadId: oldHead.id,
        previousHeadHash: oldHead.hash,
      });
      await expect(app.services.store.db.deleteFrom('audit_events').execute()).rejects.toThrow(
        /append-only/,
      );
      // The practice works on: new rows continue the new chain.
      const admin2 = await buildAdmin(app);
      const res = await admin2.client.get('/api/admin/audit/verify');
      expect(res.json<AuditVerdictWire>()).toMatchObject({ ok: true });
      expect(res.json<AuditVerdictWire>().checked).toBeGreaterThan(1);
    } finally {
      await app.stop();
    }
  });
});
