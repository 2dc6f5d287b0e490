import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROBE_LIMIT_PER_MINUTE } from '../../src/server/http/security.js';
import type { TestApp, TestClient } from '../support/app.js';
import { startMessagingApp } from '../support/factories.js';

const OFFICE = '198.51.100.20';

let t: TestApp;
beforeAll(async () => {
  t = await startMessagingApp();
});
afterAll(async () => {
  await t.stop();
});

const probe = (client: TestClient, url: string) =>
  t.app.inject({ method: 'GET', url, headers: { cookie: client.cookie }, remoteAddress: OFFICE });

/** What a prober can compare: everything but the request id. */
function shape(res: LightMyRequestResponse) {
  const { requestId: _id, ...body } = res.json<Record<string, unknown>>();
  const headers = Object.keys(res.headers)
    .filter((h) => !['date', 'x-request-id', 'content-length'].includes(h))
    .sort();
  return {
    status: res.statusCode,
    body,
    headers,
    limit: res.headers['x-ratelimit-limit'],
  };
}

describe('probing for routes as a signed-in non-admin', () => {
  it('answers admin routes exactly like unknown routes, and counts both in one budget per session', async () => {
    const prober = await t.login(await t.createUser('patient'));
    const colleague = await t.login(await t.createUser('patient'));

    const admin = await probe(prober, '/api/admin/users');
    const unknown = await probe(prober, '/api/admin/nothing-here');
    expect(shape(admin)).toEqual(shape(unknown));
    expect(admin.statusCode).toBe(404);
    expect(Number(admin.headers['x-ratelimit-remaining'])).toBe(PROBE_LIMIT_PER_MINUTE - 1);
    expect(Number(unknown.headers['x-ratelimit-remaining'])).toBe(PROBE_LIMIT_PER_MINUTE - 2);

    // Half the rest on each kind: the budget is shared, so the next of either is refused.
    for (let i = 2; i < PROBE_LIMIT_PER_MINUTE; i++) {
      const res = await probe(prober, i % 2 ? `/api/admin/audit?i=${i}` : `/api/nope-${i}`);
      expect(res.statusCode).toBe(404);
    }
    const limitedAdmin = await probe(prober, '/api/admin/rooms');
    const limitedUnknown = await probe(prober, '/api/still-nothing');
    expect(limitedAdmin.statusCode).toBe(429);
    expect(shape(limitedAdmin)).toEqual(shape(limitedUnknown));
    expect(limitedAdmin.json()).toMatchObject({ code: 'rate_limited' });
    expect(Number(limitedAdmin.headers['retry-after'])).toBeGreaterThan(0);

    // A colleague behind the same address is not locked out, on either kind.
    expect((await probe(colleague, '/api/admin/users')).statusCode).toBe(404);
    expect((await probe(colleague, '/api/nope')).statusCode).toBe(404);
    // And the prober's real routes keep working.
    expect((await probe(prober, '/api/appointments')).statusCode).toBe(200);
  });
});

const redisUrl = process.env.TEST_REDIS_URL;
if (!redisUrl) {
  process.stdout.write(
    'probing.test.ts: the across-processes case is skipped: TEST_REDIS_URL is not set\n',
  );
}

describe.skipIf(!redisUrl)('the probe limit across processes (Redis)', () => {
  it('counts one session’s probes of both kinds in one budget, whichever process answers', async () => {
    const prefix = `carechat-test:${randomUUID().slice(0, 8)}:`;
    const env = { REDIS_URL: redisUrl!, REDIS_PREFIX: prefix, LOGIN_MAX_PER_IP: '100000' };
    const one = await startMessagingApp({ env });
    const two = await startMessagingApp({ env, store: one.store });
    try {
      const prober = await one.login(await one.createUser('patient'));
      const statuses: number[] = [];
      for (let i = 0; i <= PROBE_LIMIT_PER_MINUTE; i++) {
        const app = i % 2 ? one : two;
        const url = i % 4 < 2 ? `/api/admin/users?i=${i}` : `/api/nope-${i}`;
        const res = await app.app.inject({
          method: 'GET',
          url,
          headers: { cookie: prober.cookie },
          remoteAddress: OFFICE,
        });
        statuses.push(res.statusCode);
      }
      expect(statuses.slice(0, PROBE_LIMIT_PER_MINUTE).every((s) => s === 404)).toBe(true);
      expect(statuses[PROBE_LIMIT_PER_MINUTE]).toBe(429);
    } finally {
      await two.stop();
      await one.stop();
      const r = new Redis(redisUrl!);
      const keys = await r.keys(`${prefix}*`);
      if (keys.length) await r.del(...keys);
      await r.quit();
    }
  });
});
