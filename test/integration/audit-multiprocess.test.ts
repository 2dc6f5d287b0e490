import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyChain } from '../../src/domain/audit/verify.js';
import { createTestStore } from '../support/app.js';
import { runAuditVerify } from '../support/audit-cli.js';
import { auditRows, buildPatient, startMessagingApp } from '../support/factories.js';
import { ServerProcess } from '../support/server-process.js';

/**
 * Two real carechat processes (`node --import tsx src/server/main.ts`) appending to one
 * audit chain in one PostgreSQL schema at the same time, as behind a load balancer.
 */
const pgUrl = process.env.TEST_DATABASE_URL?.startsWith('postgres')
  ? process.env.TEST_DATABASE_URL
  : undefined;
if (!pgUrl)
  process.stdout.write(
    'audit-multiprocess.test.ts skipped: TEST_DATABASE_URL is not a postgres:// URL (runs in the postgres tier)\n',
  );

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
}, 30_000);

async function startServer(env: Record<string, string>): Promise<string> {
  const server = await ServerProcess.start('src/server/main.ts', env);
  cleanup.push(() => server.stop());
  return server.url;
}

describe.skipIf(!pgUrl)('one audit chain, two server processes', () => {
  it('appends from both at once and still verifies, every row in it', async () => {
    const store = await createTestStore();
    cleanup.push(() => store.drop());
    const env = {
      DATABASE_URL: store.url,
      AUDIT_SIGNING_KEY: randomBytes(32).toString('base64'),
      // Every refusal written, so that each request below appends one row.
      AUDIT_DENIED_PER_MINUTE: '10000',
    };
    // Accounts and sessions live in the shared store, so these cookies work on both.
    const seed = await startMessagingApp({ store, env });
    cleanup.push(() => seed.stop());
    const callers = await Promise.all([buildPatient(seed), buildPatient(seed)]);
    const servers = await Promise.all([startServer(env), startServer(env)]);
    const before = (await auditRows(seed)).length;

    // Each request is answered only once its row (a refused read: access.denied) is
    // stored; both processes, several requests in flight each, and the seed app too.
    const ROUNDS = 25;
    const PER_ROUND = 4;
    const statuses: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const inFlight = servers.flatMap((base, i) =>
        Array.from({ length: PER_ROUND }, () =>
          fetch(`${base}/api/appointments/${randomUUID()}`, {
            headers: { cookie: callers[i]!.client.cookie },
          }).then((r) => r.status),
        ),
      );
      const local = seed.app
        .inject({
          method: 'GET',
          url: `/api/appointments/${randomUUID()}`,
          headers: { cookie: callers[0].client.cookie },
        })
        .then((r) => r.statusCode);
      statuses.push(...(await Promise.all([...inFlight, local])));
    }
    expect(new Set(statuses)).toEqual(new Set([404]));

    const rows = await auditRows(seed);
    const denied = rows.filter((r) => r.action === 'access.denied');
    expect(denied).toHaveLength(ROUNDS * (2 * PER_ROUND + 1));
    expect(rows.length).toBeGreaterThanOrEqual(before + denied.length);
    // Ids follow each other without a gap or a fork: one ordered writer across processes.
    expect(rows.map((r) => r.id)).toEqual(rows.map((_, i) => i + 1));
    expect(await verifyChain(seed.services.store)).toMatchObject({
      ok: true,
      checked: rows.length,
    });
    const cli = await runAuditVerify(env);
    expect(cli.code, cli.stderr).toBe(0);
  });
});
