import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KeyRing } from '../../src/domain/attachments/file-crypto.js';
import { openVapid, resealVapidKey } from '../../src/domain/notifications/vapid.js';
import type { TestApp, TestClient } from '../support/app.js';
import { createTestStore, startTestApp } from '../support/app.js';
import {
  buildAcceptedAppointment,
  manualClock,
  markRead,
  send,
  startMessagingApp,
} from '../support/factories.js';
import { PushService, type TestSubscription } from '../support/push-service.js';
import { WsClient } from '../support/ws-client.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

let pushService: PushService;
beforeAll(async () => {
  pushService = await PushService.start();
});
afterAll(() => pushService.close());

const PRACTICE = 'Riverside Family Practice';

/** Dispatch only when the test says so; the push service on 127.0.0.1 speaks plain HTTP. */
async function start(): Promise<TestApp> {
  const t = await startMessagingApp({
    listen: true,
    env: { PUSH_ALLOW_HTTP_LOOPBACK: 'true', PRACTICE_NAME: PRACTICE },
    outbox: { pollMs: 3_600_000 },
  });
  cleanup.push(() => t.stop());
  const deadline = Date.now() + 10_000;
  while (!t.jobs.isRunner) {
    if (Date.now() > deadline) throw new Error('never became the job runner');
    await new Promise((r) => setTimeout(r, 10));
  }
  return t;
}

const dispatch = async (t: TestApp) => {
  // Each round after the previous one's pushes, as real time would have it.
  manualClock(t).advance(1000);
  expect(await t.jobs.runNow('outbox:web-push')).toBe(true);
};

async function vapidKeyOf(client: TestClient): Promise<string> {
  const res = await client.get('/api/auth/session');
  expect(res.statusCode).toBe(200);
  return res.json<{ vapidPublicKey: string }>().vapidPublicKey;
}

async function subscribe(client: TestClient): Promise<TestSubscription> {
  const sub = await pushService.subscribe(await vapidKeyOf(client));
  const res = await client.post('/api/me/push-subscriptions', {
    endpoint: sub.endpoint,
    expirationTime: null,
    keys: sub.keys,
  });
  expect(res.statusCode, res.body).toBe(204);
  return sub;
}

const storedEndpoints = async (t: TestApp, userId: string) =>
  (await t.services.store.push.forUser(userId)).map((s) => s.endpoint);

describe('Web Push', () => {
  it('keeps one VAPID key pair in the store across restarts and names it in the session', async () => {
    const store = await createTestStore();
    cleanup.push(() => store.drop());
    const first = await startTestApp({ store });
    const patient = await first.createUser('patient');
    const key = await vapidKeyOf(await first.login(patient));
    expect(Buffer.from(key, 'base64url')).toHaveLength(65);
    await first.stop();
    const second = await startTestApp({ store });
    cleanup.push(() => second.stop());
    expect(await vapidKeyOf(await second.login(patient))).toBe(key);
  });

  it('seals the stored VAPID private key under DATA_KEY, and rotation seals it under the new key', async () => {
    const store = await createTestStore();
    cleanup.push(() => store.drop());
    const keyA = randomBytes(32);
    const keyB = randomBytes(32);

    const plain = await startTestApp({ store });
    const patient = await plain.createUser('patient');
    const publicKey = await vapidKeyOf(await plain.login(patient));
    const privateKey = (await plain.services.store.push.storedVapidKeys())!.privateKey;
    expect(privateKey).not.toMatch(/^sealed:/);
    await plain.stop();

    // A key stored before DATA_KEY was set is sealed at the next start; the pair stays.
    const sealedA = await startTestApp({ store, env: { DATA_KEY: keyA.toString('base64') } });
    const storedA = (await sealedA.services.store.push.storedVapidKeys())!.privateKey;
    expect(storedA).toMatch(/^sealed:/);
    expect(storedA).not.toContain(privateKey);
    expect(openVapid(new KeyRing(keyA), storedA)).toBe(privateKey);
    expect(await vapidKeyOf(await sealedA.login(patient))).toBe(publicKey);

    // What `npm run rotate-data-key` does for it: sealed again under the new key.
    const ring = new KeyRing(keyB, [keyA]);
    expect(await resealVapidKey(sealedA.services.store, ring)).toBe(true);
    expect(await resealVapidKey(sealedA.services.store, ring)).toBe(false);
    await sealedA.stop();

    const sealedB = await startTestApp({ store, env: { DATA_KEY: keyB.toString('base64') } });
    cleanup.push(() => sealedB.stop());
    expect(await vapidKeyOf(await sealedB.login(patient))).toBe(publicKey);
    const storedB = (await sealedB.services.store.push.storedVapidKeys())!.privateKey;
    expect(openVapid(new KeyRing(keyB), storedB)).toBe(privateKey);

    // Without the key that sealed it, the server refuses to start rather than sign as someone else.
    await expect(
      startTestApp({ store, env: { DATA_KEY: randomBytes(32).toString('base64') } }),
    ).rejects.toThrow(/not configured/);
  });

  it('refuses subscriptions that are not a push service over https, and stores nothing', async () => {
    const t = await startMessagingApp();
    cleanup.push(() => t.stop());
    const patient = await t.createUser('patient');
    const client = await t.login(patient);
    const keys = {
      p256dh: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 7)]).toString('base64url'),
      auth: Buffer.alloc(16, 1).toString('base64url'),
    };
    const bad = [
      { endpoint: 'http://127.0.0.1:9/notify/x', keys }, // loopback only when configured
      { endpoint: 'http://fcm.googleapis.com/fcm/send/x', keys },
      { endpoint: 'https://intranet.example.com/admin', keys }, // not a push service
      { endpoint: 'https://fcm.googleapis.com.evil.example/x', keys },
      { endpoint: 'file:///etc/passwd', keys },
      { endpoint: 'https://user:pw@fcm.googleapis.com/fcm/send/x', keys },
      { endpoint: 'not a url', keys },
      { endpoint: 'https://fcm.googleapis.com/fcm/send/x', keys: { ...keys, p256dh: 'AAAA' } },
      { endpoint: 'https://fcm.googleapis.com/fcm/send/x', keys: { ...keys, auth: 'not base64!' } },
      { endpoint: 'https://fcm.googleapis.com/fcm/send/x' },
    ];
    for (const body of bad) {
      const res = await client.post('/api/me/push-subscriptions', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.json<{ code: string }>().code).toBe('validation_failed');
    }
    expect(await storedEndpoints(t, patient.id)).toEqual([]);
    const ok = await client.post('/api/me/push-subscriptions', {
      endpoint: 'https://fcm.googleapis.com/fcm/send/x',
      keys,
    });
    expect(ok.statusCode, ok.body).toBe(204);
    expect(await storedEndpoints(t, patient.id)).toEqual(['https://fcm.googleapis.com/fcm/send/x']);
  });

  it('pushes an encrypted payload with no health information to an offline recipient', async () => {
    const t = await start();
    const c = await buildAcceptedAppointment(t, undefined, undefined, {
      reason: 'Rash after starting amoxicillin',
    });
    const sub = await subscribe(c.patientClient);
    expect(await storedEndpoints(t, c.patient.user.id)).toEqual([sub.endpoint]);

    const text = 'Your biopsy results show melanoma; please call us';
    const sent = await send(c.practitionerClient, c.roomId, text);
    await dispatch(t);

    const received = await pushService.received(sub.clientHash);
    expect(received).toHaveLength(1);
    const payload = JSON.parse(received[0]!) as Record<string, unknown>;
    expect(payload).toEqual({
      v: 1,
      title: 'New secure message',
      body: PRACTICE,
      roomId: c.roomId,
      seq: sent.seq,
      url: `/chat/room/${c.roomId}/`,
    });
    for (const secret of ['biopsy', 'melanoma', 'amoxicillin', 'Rash', 'General Practice'])
      expect(received[0]).not.toContain(secret);
    expect(received[0]).not.toContain(c.practitioner.user.name);
    const [row] = await t.services.store.push.forUser(c.patient.user.id);
    expect(row!.last_success_at).not.toBeNull();

    // The retry of an event already pushed (at least once) does not push it again.
    await t.services.store.db
      .updateTable('event_deliveries')
      .set({ state: 'pending' })
      .where('processor', '=', 'web-push')
      .execute();
    expect(await t.jobs.runNow('outbox:web-push')).toBe(true);
    expect(await pushService.received(sub.clientHash)).toHaveLength(1);
  });

  it('does not push to a recipient with a carechat tab open, nor for a message read first', async () => {
    const t = await start();
    const c = await buildAcceptedAppointment(t);
    const sub = await subscribe(c.patientClient);

    const ws = await WsClient.live(t.url, c.patientClient.cookie);
    await send(c.practitionerClient, c.roomId, 'Are you free on Monday?');
    await dispatch(t);
    expect(await pushService.received(sub.clientHash)).toEqual([]);
    await ws.close();

    // Read on another device before the push was due: nothing to announce.
    const read = await send(c.practitionerClient, c.roomId, 'Tuesday works too');
    await markRead(c.patientClient, c.roomId, read.seq);
    const closed = await eventuallyOffline(t, c.patient.user.id);
    expect(closed).toBe(0);
    await dispatch(t);
    expect(await pushService.received(sub.clientHash)).toEqual([]);

    // The sender is never told of their own message; the patient is, once offline and unread.
    const practitionerSub = await subscribe(c.practitionerClient);
    await send(c.practitionerClient, c.roomId, 'See you then');
    await dispatch(t);
    expect(await pushService.received(sub.clientHash)).toHaveLength(1);
    expect(await pushService.received(practitionerSub.clientHash)).toEqual([]);
  });

  it('sends nothing while the user has turned push off in their preferences', async () => {
    const t = await start();
    const c = await buildAcceptedAppointment(t);
    const sub = await subscribe(c.patientClient);
    const off = await c.patientClient.request('PUT', '/api/me/notifications', {
      email: 'offline',
      quietMinutes: 10,
      push: false,
    });
    expect(off.statusCode, off.body).toBe(200);
    await send(c.practitionerClient, c.roomId, 'Please book a follow-up');
    await dispatch(t);
    expect(await pushService.received(sub.clientHash)).toEqual([]);

    const on = await c.patientClient.request('PUT', '/api/me/notifications', {
      email: 'offline',
      quietMinutes: 10,
      push: true,
    });
    expect(on.statusCode, on.body).toBe(200);
    await send(c.practitionerClient, c.roomId, 'Any day next week');
    await dispatch(t);
    expect(await pushService.received(sub.clientHash)).toHaveLength(1);
  });

  it('forgets a subscription the push service answers 410 for, and one turned off or signed out', async () => {
    const t = await start();
    const c = await buildAcceptedAppointment(t);
    const gone = await subscribe(c.patientClient);
    await pushService.expire(gone.clientHash);
    await send(c.practitionerClient, c.roomId, 'Hello');
    await dispatch(t);
    expect(await storedEndpoints(t, c.patient.user.id)).toEqual([]);
    const [delivery] = await t.services.store.db
      .selectFrom('event_deliveries')
      .select(['state'])
      .where('processor', '=', 'web-push')
      .execute();
    expect(delivery!.state).toBe('done');

    // Turned off on this device.
    const off = await subscribe(c.patientClient);
    const res = await c.patientClient.request('DELETE', '/api/me/push-subscriptions', {
      endpoint: off.endpoint,
    });
    expect(res.statusCode, res.body).toBe(204);
    expect(await storedEndpoints(t, c.patient.user.id)).toEqual([]);

    // Another user cannot remove it; signing out of the session that made it does.
    const mine = await subscribe(c.patientClient);
    const other = await c.practitionerClient.request('DELETE', '/api/me/push-subscriptions', {
      endpoint: mine.endpoint,
    });
    expect(other.statusCode).toBe(204);
    expect(await storedEndpoints(t, c.patient.user.id)).toEqual([mine.endpoint]);
    const secondDevice = await t.login(c.patient.user);
    const kept = await subscribe(secondDevice);
    expect((await c.patientClient.post('/api/auth/logout')).statusCode).toBe(204);
    await dispatch(t);
    expect(await storedEndpoints(t, c.patient.user.id)).toEqual([kept.endpoint]);
  });
});

async function eventuallyOffline(t: TestApp, userId: string): Promise<number> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const n = (await t.services.presence.counts([userId])).get(userId) ?? 0;
    if (n === 0 || Date.now() > deadline) return n;
    await new Promise((r) => setTimeout(r, 20));
  }
}
