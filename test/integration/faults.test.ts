import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageWire } from '../../src/shared/wire.js';
import { createTestStore, type TestApp } from '../support/app.js';
import {
  buildAcceptedAppointment,
  sendMessage,
  startMessagingApp,
  storedMessages,
} from '../support/factories.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { WsClient } from '../support/ws-client.js';
import { uniqueRedisPrefix } from '../support/redis.js';

const pgUrl = process.env.TEST_DATABASE_URL?.startsWith('postgres')
  ? process.env.TEST_DATABASE_URL
  : undefined;
const redisUrl = process.env.TEST_REDIS_URL;
if (!pgUrl) {
  process.stdout.write(
    'faults.test.ts: PostgreSQL fault tests run in the postgres tier only (TEST_DATABASE_URL)\n',
  );
} else if (!redisUrl) {
  process.stdout.write('faults.test.ts: Redis fault test skipped: TEST_REDIS_URL is not set\n');
}

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

const portOf = (url: string, fallback: number) => Number(new URL(url).port || fallback);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function expectStoreUnavailable(res: {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}) {
  expect(res.statusCode, res.body).toBe(503);
  expect(String(res.headers['content-type'])).toContain('application/problem+json');
  expect(JSON.parse(res.body)).toMatchObject({ status: 503, code: 'store_unavailable' });
}

describe.skipIf(!pgUrl)('PostgreSQL goes away', () => {
  it('answers 503 store_unavailable, writes nothing by halves, and recovers by itself', async () => {
    const base = await createTestStore();
    cleanup.push(() => base.drop());
    const proxy = await TcpProxy.start({
      host: new URL(pgUrl!).hostname,
      port: portOf(pgUrl!, 5432),
    });
    cleanup.push(() => proxy.close());
    const t = await startMessagingApp({
      store: { url: proxy.url(base.url), drop: async () => {} },
    });
    cleanup.push(() => t.stop());
    const { roomId, patientClient, practitionerClient } = await buildAcceptedAppointment(t);
    for (let i = 0; i < 5; i++)
      expect((await sendMessage(patientClient, roomId, `before ${i}`)).statusCode).toBe(201);

    // Two senders keep sending; the database is cut while their writes are in flight.
    const clientIds = Array.from({ length: 30 }, () => randomUUID());
    const senderOf = (i: number) => (i % 2 ? practitionerClient : patientClient);
    const results: Awaited<ReturnType<typeof sendMessage>>[] = [];
    let ok = 0;
    const loop = async (parity: number) => {
      for (let i = parity; i < clientIds.length; i += 2) {
        const res = await sendMessage(senderOf(i), roomId, `burst ${i}`, clientIds[i]);
        results[i] = res;
        if (res.statusCode === 201 && ++ok === 8) proxy.cut();
      }
    };
    await Promise.all([loop(0), loop(1)]);
    for (const r of results) {
      if (r.statusCode !== 201) expectStoreUnavailable(r);
    }
    expect(results.filter((r) => r.statusCode === 201).length).toBeGreaterThanOrEqual(8);
    expect(results.filter((r) => r.statusCode === 503).length).toBeGreaterThan(10);

    // While it is gone: a clear 503 everywhere, readiness says unavailable.
    expectStoreUnavailable(await patientClient.get('/api/rooms'));
    expectStoreUnavailable(await sendMessage(patientClient, roomId, 'while down'));
    const down = await t.app.inject({ method: 'GET', url: '/readyz' });
    expect(down.statusCode).toBe(503);
    expect(down.json()).toMatchObject({ status: 'unavailable', storeReachable: false });
    expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);

    proxy.restore();
    await until(
      async () => (await patientClient.get('/api/rooms')).statusCode === 200,
      'the app to reach PostgreSQL again',
    );
    expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);

    // The clients retry what failed with the same clientId: each message exists exactly once.
    const acked = new Map<string, MessageWire>();
    for (const [i, r] of results.entries())
      if (r.statusCode === 201) acked.set(clientIds[i]!, r.json());
    for (const [i, clientId] of clientIds.entries()) {
      if (acked.has(clientId)) continue;
      const retry = await sendMessage(senderOf(i), roomId, `burst ${i}`, clientId);
      expect([200, 201], retry.body).toContain(retry.statusCode);
      acked.set(clientId, retry.json());
    }
    const stored = await storedMessages(t, roomId);
    expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: 35 }, (_, i) => i + 1));
    for (const [clientId, m] of acked) {
      expect(stored.filter((s) => s.client_id === clientId).map((s) => s.id)).toEqual([m.id]);
    }
    const room = await t.services.store.system().rooms.findById(roomId);
    expect(room!.last_seq).toBe(35);
  });
});

describe.skipIf(!pgUrl || !redisUrl)('Redis goes away during traffic', () => {
  it('keeps serving and storing, reports degraded, and resumes fan-out without losing a message', async () => {
    const { prefix, cleanup: forgetKeys } = uniqueRedisPrefix(redisUrl!);
    cleanup.push(forgetKeys);
    const store = await createTestStore();
    cleanup.push(() => store.drop());
    const proxy = await TcpProxy.start({
      host: new URL(redisUrl!).hostname,
      port: portOf(redisUrl!, 6379),
    });
    cleanup.push(() => proxy.close());
    const start = (url: string) =>
      startMessagingApp({ listen: true, store, env: { REDIS_URL: url, REDIS_PREFIX: prefix } });
    const one: TestApp = await start(proxy.url(redisUrl!));
    cleanup.push(() => one.stop());
    const two: TestApp = await start(redisUrl!);
    cleanup.push(() => two.stop());

    const { roomId, patientClient, practitionerClient } = await buildAcceptedAppointment(one);
    const patient = await WsClient.connect(one.url, { cookie: patientClient.cookie });
    cleanup.push(() => patient.close());
    const practitioner = await WsClient.connect(two.url, { cookie: practitionerClient.cookie });
    cleanup.push(() => practitioner.close());
    for (const ws of [patient, practitioner]) {
      await ws.nextOf('hello');
      await ws.resume({ [roomId]: 0 });
    }

    const sent: MessageWire[] = [];
    const sendOne = async (body: string) => {
      const clientId = randomUUID();
      patient.send({ type: 'send', roomId, clientId, body });
      const ack = await patient.nextOf('ack', (e) => e.clientId === clientId);
      sent.push(ack.message);
      return ack.message;
    };
    const first = await sendOne('before the cut');
    await practitioner.nextOf('message', (e) => e.message.id === first.id);

    proxy.cut();
    await until(async () => {
      const r = await one.app.inject({ method: 'GET', url: '/readyz' });
      return r.json<{ status: string }>().status === 'degraded';
    }, 'process 1 to report degraded');
    const ready = await one.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'degraded', bus: 'redis', busHealthy: false });
    // Still serving and storing.
    for (let i = 0; i < 10; i++) await sendOne(`during the cut ${i}`);
    expect((await patientClient.get(`/api/rooms/${roomId}/messages`)).statusCode).toBe(200);

    proxy.restore();
    await until(async () => {
      const r = await one.app.inject({ method: 'GET', url: '/readyz' });
      return r.json<{ status: string }>().status === 'ready';
    }, 'process 1 to report ready again');
    const after = await sendOne('after the cut');
    await practitioner.nextOf('message', (e) => e.message.id === after.id, 10_000);

    // Everything reached the practitioner on the other process once, in order.
    const received = practitioner.framesOf('message').map((e) => e.message);
    expect(received.map((m) => m.seq)).toEqual(sent.map((m) => m.seq));
    expect(received.map((m) => m.id)).toEqual(sent.map((m) => m.id));
    const stored = await storedMessages(one, roomId);
    expect(stored.map((m) => m.id)).toEqual(sent.map((m) => m.id));
  });
});
