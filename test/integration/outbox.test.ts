import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Delivered } from '../../src/domain/events/events.js';
import { ProcessorRegistry, type Processor } from '../../src/domain/events/processor.js';
import { defaultOutboxSettings, OutboxDispatcher } from '../../src/domain/events/dispatcher.js';
import pino from 'pino';
import type { OutboxPageWire, OutboxDeliveryWire } from '../../src/shared/outbox.js';
import type { MessageWire } from '../../src/shared/wire.js';
import type { TestApp } from '../support/app.js';
import {
  buildAcceptedAppointment,
  buildAdmin,
  buildPatient,
  buildPractitioner,
  manualClock,
  requestAppointment,
  startMessagingApp,
} from '../support/factories.js';
import { uniqueRedisPrefix } from '../support/redis.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

/** A processor the test steers: it fails while `failing` is set and records what it saw. */
function recorder(name: string, takes: Processor['takes']) {
  const state = { failing: false, ready: true, seen: [] as Delivered[] };
  const processor: Processor = {
    name,
    takes,
    ready: () => state.ready,
    handle: (d) => {
      state.seen.push(d);
      return state.failing
        ? Promise.reject(new Error('mail server refused the connection'))
        : Promise.resolve();
    },
  };
  return { processor, state };
}

async function eventually(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const redisUrl = process.env.TEST_REDIS_URL;
if (!redisUrl) {
  process.stdout.write(
    'outbox.test.ts: the live wake-up across processes is skipped: TEST_REDIS_URL is not set\n',
  );
}

/** The bus between processes, under a key prefix of its own that is deleted afterwards. */
function redisEnv(): Record<string, string> {
  const { prefix, cleanup: forgetKeys } = uniqueRedisPrefix(redisUrl!);
  cleanup.push(forgetKeys);
  return { REDIS_URL: redisUrl!, REDIS_PREFIX: prefix };
}

/** Dispatch only when the test says so: the poll is an hour, the clock is manual. */
async function start(
  processors: Processor[],
  maxAttempts = 3,
  env: Record<string, string> = {},
): Promise<TestApp> {
  const t = await startMessagingApp({
    processors,
    env,
    outbox: { pollMs: 3_600_000, backoffBaseMs: 1000, backoffMaxMs: 60_000, maxAttempts },
  });
  cleanup.push(() => t.stop());
  // On PostgreSQL the runner lock is taken asynchronously.
  await eventually(() => t.jobs.isRunner);
  return t;
}

const run = async (t: TestApp, processor: string) => {
  expect(await t.jobs.runNow(`outbox:${processor}`)).toBe(true);
};

/** Every event type: the outbox stores an event only when some processor wants it. */
const everyType: Processor['takes'] = [
  'messages.committed',
  'appointment.requested',
  'appointment.changed',
  'room.opened',
  'room.closed',
  'room.reopened',
  'room.archived',
  'session.ended',
];
const takesAll = () => recorder('takes-all', everyType).processor;

function events(t: TestApp) {
  return t.services.store.db.selectFrom('events').selectAll().orderBy('created_at').execute();
}

function deliveries(t: TestApp, processor: string) {
  return t.services.store.db
    .selectFrom('event_deliveries')
    .selectAll()
    .where('processor', '=', processor)
    .orderBy('id')
    .execute();
}

describe('outbox: events are written with the change that causes them', () => {
  it('a group commit of messages writes one event per room and sender, ids and seqs only', async () => {
    const t = await start([takesAll()]);
    const c = await buildAcceptedAppointment(t);
    const before = (await events(t)).length;
    const body = `secret symptom ${randomUUID()}`;
    // Sent in one turn: one group commit.
    const sent = await Promise.all(
      [1, 2, 3].map((i) =>
        t.services.messages.send(c.patient.ctx, c.roomId, {
          clientId: randomUUID(),
          body: `${body} ${i}`,
        }),
      ),
    );
    const after = await events(t);
    const fresh = after.slice(before);
    expect(fresh.map((e) => e.type)).toEqual(['messages.committed']);
    expect(JSON.parse(fresh[0]!.payload)).toEqual({
      type: 'messages.committed',
      roomId: c.roomId,
      senderId: c.patient.user.id,
      recipientId: c.practitioner.user.id,
      firstSeq: Math.min(...sent.map((s) => s.message.seq)),
      lastSeq: Math.max(...sent.map((s) => s.message.seq)),
      count: 3,
      recipientPush: false,
    });
    expect(JSON.stringify(after)).not.toContain('secret symptom');
    // One process's bus cannot lose a wake-up, and nobody has a device subscribed to push:
    // the test's processor is the only one that takes it.
    const written = await t.services.store.db
      .selectFrom('event_deliveries')
      .select('processor')
      .where('event_id', '=', fresh[0]!.id)
      .execute();
    expect(written).toEqual([{ processor: 'takes-all' }]);
  });

  it('stores no event that no processor wants', async () => {
    const t = await start([]);
    const c = await buildAcceptedAppointment(t);
    const before = (await events(t)).length;
    const res = await c.patientClient.post(`/api/rooms/${c.roomId}/messages`, {
      clientId: randomUUID(),
      body: 'nobody here has a phone subscribed to push',
    });
    expect(res.statusCode).toBe(201);
    expect(await events(t)).toHaveLength(before);
  });

  it('writes a Web Push delivery only for a recipient with a subscribed device', async () => {
    const t = await start([]);
    const c = await buildAcceptedAppointment(t);
    const db = t.services.store.db;
    await t.services.store.push.save({
      endpoint: `https://fcm.googleapis.com/fcm/send/${randomUUID()}`,
      user_id: c.practitioner.user.id,
      session_id_hash: null,
      p256dh:
        'BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM',
      auth: 'tBHItJI5svbpez7KI4CCXg',
      created_at: Date.now(),
    });
    await c.patientClient.post(`/api/rooms/${c.roomId}/messages`, {
      clientId: randomUUID(),
      body: 'to the practitioner, who has a phone subscribed',
    });
    await c.practitionerClient.post(`/api/rooms/${c.roomId}/messages`, {
      clientId: randomUUID(),
      body: 'to the patient, who has none',
    });
    const rows = await db
      .selectFrom('event_deliveries as d')
      .innerJoin('events as e', 'e.id', 'd.event_id')
      .select(['e.payload'])
      .where('d.processor', '=', 'web-push')
      .where('e.type', '=', 'messages.committed')
      .execute();
    const announced = rows.map((r) => JSON.parse(r.payload) as { recipientId: string });
    expect(announced.map((e) => e.recipientId)).toEqual([c.practitioner.user.id]);
  });

  it('a refused send writes no event', async () => {
    const t = await start([takesAll()]);
    const c = await buildAcceptedAppointment(t);
    const stranger = await buildPatient(t);
    const before = (await events(t)).length;
    const res = await stranger.client.post(`/api/rooms/${c.roomId}/messages`, {
      clientId: randomUUID(),
      body: 'hello',
    });
    expect(res.statusCode).toBe(404);
    expect(await events(t)).toHaveLength(before);
  });

  it('requests, acceptance, archiving and sign-out write their events, never the reason', async () => {
    const t = await start([takesAll()]);
    const patient = await buildPatient(t);
    const practitioner = await buildPractitioner(t);
    const reason = `Reason ${randomUUID()}`;
    const appt = await requestAppointment(t, patient, practitioner, { reason });
    const accepted = await practitioner.client.post(`/api/appointments/${appt.id}/accept`, {
      note: 'See you then',
    });
    expect(accepted.statusCode).toBe(200);
    const roomId = accepted.json<{ roomId: string }>().roomId;
    expect((await patient.client.post(`/api/rooms/${roomId}/archive`, {})).statusCode).toBe(200);
    expect((await patient.client.post('/api/auth/logout')).statusCode).toBe(204);

    const all = await events(t);
    const payloads = all.map((e) => JSON.parse(e.payload) as { type: string });
    expect(payloads).toContainEqual({
      type: 'appointment.requested',
      appointmentId: appt.id,
      patientId: patient.user.id,
      practitionerId: practitioner.user.id,
    });
    expect(payloads).toContainEqual({
      type: 'appointment.changed',
      appointmentId: appt.id,
      patientId: patient.user.id,
      practitionerId: practitioner.user.id,
      from: 'requested',
      to: 'accepted',
      byUserId: practitioner.user.id,
    });
    expect(payloads).toContainEqual({
      type: 'room.opened',
      roomId,
      appointmentId: appt.id,
      patientId: patient.user.id,
      practitionerId: practitioner.user.id,
    });
    expect(payloads).toContainEqual({
      type: 'room.archived',
      roomId,
      userId: patient.user.id,
      archived: true,
    });
    expect(payloads).toContainEqual(
      expect.objectContaining({ type: 'session.ended', userId: patient.user.id, reason: 'logout' }),
    );
    const text = JSON.stringify(all);
    expect(text).not.toContain(reason);
    expect(text).not.toContain('See you then');
  });

  it('a cancellation closes the room and a reopening opens it again, each with its event', async () => {
    const t = await start([takesAll()]);
    const patient = await buildPatient(t);
    const practitioner = await buildPractitioner(t);
    const appt = await requestAppointment(t, patient, practitioner);
    const accepted = await practitioner.client.post(`/api/appointments/${appt.id}/accept`, {});
    const roomId = accepted.json<{ roomId: string }>().roomId;
    const note = `Note ${randomUUID()}`;
    const cancelled = await patient.client.post(`/api/appointments/${appt.id}/cancel`, { note });
    expect(cancelled.statusCode).toBe(200);
    expect((await practitioner.client.post(`/api/rooms/${roomId}/reopen`, {})).statusCode).toBe(
      200,
    );

    const all = await events(t);
    const payloads = all.map((e) => JSON.parse(e.payload) as { type: string });
    expect(payloads).toContainEqual({
      type: 'room.closed',
      roomId,
      appointmentId: appt.id,
      reason: 'appointment_cancelled',
      byUserId: patient.user.id,
    });
    expect(payloads).toContainEqual({
      type: 'room.reopened',
      roomId,
      byUserId: practitioner.user.id,
    });
    expect(JSON.stringify(all)).not.toContain(note);
  });
});

describe('outbox: what cannot be written', () => {
  it('refuses an event outside a transaction, so no event can commit without its change', async () => {
    const t = await start([]);
    const before = (await events(t)).length;
    await expect(
      t.services.deps.outbox.emit(t.services.store, t.clock.now(), [
        { type: 'room.archived', roomId: 'r', userId: 'u', archived: true },
      ]),
    ).rejects.toThrow(/inside the transaction/);
    expect(await events(t)).toHaveLength(before);
  });

  it('an event rolled back with its transaction leaves nothing behind', async () => {
    const { processor } = recorder('rolled-back', ['room.archived']);
    const t = await start([processor]);
    const before = (await events(t)).length;
    await expect(
      t.services.store.transaction(async (tx) => {
        await t.services.deps.outbox.emit(tx, t.clock.now(), [
          { type: 'room.archived', roomId: 'r', userId: 'u', archived: true },
        ]);
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await events(t)).toHaveLength(before);
    expect(await deliveries(t, 'rolled-back')).toHaveLength(0);
  });

  it('names processors once, in lower-case words', () => {
    const ok = recorder('mail-offline', ['messages.committed']).processor;
    const registry = new ProcessorRegistry([ok]);
    expect(registry.takersOf('messages.committed')).toEqual(['mail-offline']);
    expect(registry.takersOf('room.opened')).toEqual([]);
    expect(() => registry.register(ok)).toThrow(/twice/);
    expect(() => registry.register({ ...ok, name: 'Mail Offline' })).toThrow(/lower-case/);
  });
});

describe('outbox: dispatch after commit', () => {
  it('hands each delivery to its processor once and marks it done', async () => {
    const { processor, state } = recorder('counter', ['appointment.requested']);
    const t = await start([processor]);
    const patient = await buildPatient(t);
    const practitioner = await buildPractitioner(t);
    const a = await requestAppointment(t, patient, practitioner);
    const b = await requestAppointment(t, patient, practitioner);
    await run(t, 'counter');
    await run(t, 'counter');
    expect(state.seen.map((d) => (d.event as { appointmentId: string }).appointmentId)).toEqual([
      a.id,
      b.id,
    ]);
    expect(new Set(state.seen.map((d) => d.idempotencyKey)).size).toBe(2);
    expect(state.seen[0]!.idempotencyKey).toBe(`${state.seen[0]!.eventId}:counter`);
    expect((await deliveries(t, 'counter')).map((d) => d.state)).toEqual(['done', 'done']);
  });

  it.skipIf(!redisUrl)(
    'across processes (Redis), re-sends the live wake-up for committed messages, which a connection already up to date ignores',
    async () => {
      const t = await start([], 3, redisEnv());
      const c = await buildAcceptedAppointment(t);
      const heard: number[] = [];
      const off = t.services.bus.subscribe((e) => {
        if (e.t === 'messages' && e.roomId === c.roomId && !e.messages) heard.push(e.seq);
      });
      cleanup.push(() => Promise.resolve(off()));
      const res = await c.patientClient.post(`/api/rooms/${c.roomId}/messages`, {
        clientId: randomUUID(),
        body: 'hello',
      });
      const seq = res.json<MessageWire>().seq;
      expect(heard).toEqual([]);
      await run(t, 'live-wakeup');
      expect(heard).toEqual([seq]);
      expect((await deliveries(t, 'live-wakeup')).every((d) => d.state === 'done')).toBe(true);
    },
  );

  it('a handler may defer its delivery to a later time without spending an attempt', async () => {
    const seen: number[] = [];
    const t = await start([
      {
        name: 'quiet-period',
        takes: ['appointment.requested'],
        // As a notification waits out a quiet period: not before ten minutes after commit.
        handle: (d) => {
          seen.push(d.attempt);
          const due = d.createdAt + 600_000;
          return Promise.resolve(t.clock.now() < due ? { deferUntil: due } : undefined);
        },
      },
    ]);
    const clock = manualClock(t);
    await requestAppointment(t, await buildPatient(t), await buildPractitioner(t));
    await run(t, 'quiet-period');
    let [row] = await deliveries(t, 'quiet-period');
    expect(row).toMatchObject({ state: 'pending', attempts: 0 });
    expect(row!.next_attempt_at).toBe(row!.created_at + 600_000);
    clock.advance(599_999);
    await run(t, 'quiet-period');
    expect(seen).toHaveLength(1);
    clock.advance(1);
    await run(t, 'quiet-period');
    expect(seen).toEqual([0, 0]);
    [row] = await deliveries(t, 'quiet-period');
    expect(row).toMatchObject({ state: 'done', attempts: 0 });
  });

  it('a processor that is not ready keeps its deliveries waiting without spending attempts', async () => {
    const { processor, state } = recorder('waits', ['appointment.requested']);
    const t = await start([processor]);
    state.ready = false;
    await requestAppointment(t, await buildPatient(t), await buildPractitioner(t));
    await run(t, 'waits');
    expect(state.seen).toHaveLength(0);
    expect((await deliveries(t, 'waits'))[0]).toMatchObject({ state: 'pending', attempts: 0 });
    state.ready = true;
    await run(t, 'waits');
    expect(state.seen).toHaveLength(1);
  });
});

describe('outbox: retries, dead letters and the admin', () => {
  it('an idle processor looks at the store only when work was committed for it, a retry comes due, or the idle poll passes', async () => {
    const { processor, state } = recorder('mailer', ['appointment.requested']);
    const t = await start([processor], 3);
    const clock = manualClock(t);
    const looks = vi.spyOn(t.services.store.events, 'due');
    const patient = await buildPatient(t);
    const doctor = await buildPractitioner(t);
    await run(t, 'mailer');
    await run(t, 'mailer');
    // PostgreSQL: other processes write events too, so every tick looks.
    const idle = t.services.store.dialect === 'sqlite' ? 1 : 2;
    expect(looks).toHaveBeenCalledTimes(idle);

    state.failing = true;
    await requestAppointment(t, patient, doctor);
    await run(t, 'mailer');
    expect(state.seen).toHaveLength(1);
    looks.mockClear();
    // The retry is known to come due in a second: nothing to look for before.
    clock.advance(999);
    await run(t, 'mailer');
    expect(looks).toHaveBeenCalledTimes(idle - 1);
    clock.advance(1);
    state.failing = false;
    await run(t, 'mailer');
    expect(state.seen).toHaveLength(2);
    expect((await deliveries(t, 'mailer'))[0]).toMatchObject({ state: 'done' });

    // Committed here: the next tick looks at once.
    await requestAppointment(t, patient, doctor);
    await run(t, 'mailer');
    expect(state.seen).toHaveLength(3);
    // Written behind this process's back (another connection, a restore): found by the idle poll.
    looks.mockClear();
    await t.services.store.db
      .updateTable('event_deliveries')
      .set({ state: 'pending', next_attempt_at: clock.now() })
      .where('processor', '=', 'mailer')
      .execute();
    await run(t, 'mailer');
    expect(state.seen).toHaveLength(t.services.store.dialect === 'sqlite' ? 3 : 5);
    clock.advance(defaultOutboxSettings.idlePollMs);
    await run(t, 'mailer');
    // Both deliveries again.
    expect(state.seen).toHaveLength(5);
  });

  it('retries with exponential backoff, then dead; the admin sees it and puts it back', async () => {
    const { processor, state } = recorder('mailer', ['appointment.requested']);
    const t = await start([processor], 3);
    const clock = manualClock(t);
    const patient = await buildPatient(t);
    state.failing = true;
    const appt = await requestAppointment(t, patient, await buildPractitioner(t));

    await run(t, 'mailer');
    expect(state.seen).toHaveLength(1);
    let [row] = await deliveries(t, 'mailer');
    expect(row).toMatchObject({ state: 'pending', attempts: 1 });
    expect(row!.next_attempt_at).toBe(clock.now() + 1000);

    // Not due yet: nothing runs.
    clock.advance(999);
    await run(t, 'mailer');
    expect(state.seen).toHaveLength(1);
    clock.advance(1);
    await run(t, 'mailer');
    expect(state.seen).toHaveLength(2);
    [row] = await deliveries(t, 'mailer');
    expect(row).toMatchObject({ state: 'pending', attempts: 2 });
    // The second wait is twice the first.
    expect(row!.next_attempt_at).toBe(clock.now() + 2000);
    clock.advance(1999);
    await run(t, 'mailer');
    expect(state.seen).toHaveLength(2);
    clock.advance(1);
    await run(t, 'mailer');
    expect(state.seen).toHaveLength(3);
    [row] = await deliveries(t, 'mailer');
    expect(row).toMatchObject({ state: 'dead', attempts: 3 });
    // Dead stays dead, however long one waits.
    clock.advance(3_600_000);
    await run(t, 'mailer');
    expect(state.seen).toHaveLength(3);

    // The admin's view: the summary and the dead letter, with ids and the error only.
    const admin = await buildAdmin(t);
    const listed = await admin.client.get('/api/admin/outbox?state=dead');
    expect(listed.statusCode).toBe(200);
    const page = listed.json<OutboxPageWire>();
    expect(page.processors).toContainEqual(
      expect.objectContaining({ processor: 'mailer', dead: 1, pending: 0 }),
    );
    const dead = page.deliveries.find((d) => d.processor === 'mailer')!;
    expect(dead).toMatchObject({
      id: String(row!.id),
      eventType: 'appointment.requested',
      subjectId: appt.id,
      state: 'dead',
      attempts: 3,
      lastError: 'Error: mail server refused the connection',
    });
    expect(listed.body).not.toContain('Follow-up on blood results');

    // Retried by the admin: due at once, attempts afresh, and it now goes through.
    state.failing = false;
    const retried = await admin.client.post(`/api/admin/outbox/${dead.id}/retry`);
    expect(retried.statusCode).toBe(200);
    expect(retried.json<OutboxDeliveryWire>()).toMatchObject({ state: 'pending', attempts: 0 });
    await run(t, 'mailer');
    expect(state.seen).toHaveLength(4);
    [row] = await deliveries(t, 'mailer');
    expect(row).toMatchObject({ state: 'done' });
    const audit = await t.services.store.audit.list({ action: 'outbox.retry', limit: 10 });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor_id: admin.user.id, target_id: dead.id });

    // Only a dead delivery can be retried.
    const again = await admin.client.post(`/api/admin/outbox/${dead.id}/retry`);
    expect(again.statusCode).toBe(409);
    expect(again.json<{ code: string }>().code).toBe('conflict');
    expect((await deliveries(t, 'mailer'))[0]).toMatchObject({ state: 'done' });
  });

  it('retries every dead delivery of a processor at once', async () => {
    const { processor, state } = recorder('bulk', ['appointment.requested']);
    const t = await start([processor], 1);
    const admin = await buildAdmin(t);
    const patient = await buildPatient(t);
    const practitioner = await buildPractitioner(t);
    state.failing = true;
    await requestAppointment(t, patient, practitioner);
    await requestAppointment(t, patient, practitioner);
    await run(t, 'bulk');
    expect((await deliveries(t, 'bulk')).map((d) => d.state)).toEqual(['dead', 'dead']);
    const res = await admin.client.post('/api/admin/outbox/retry', { processor: 'bulk' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ retried: 2 });
    state.failing = false;
    await run(t, 'bulk');
    expect((await deliveries(t, 'bulk')).map((d) => d.state)).toEqual(['done', 'done']);
  });

  it('is hidden from everyone but the admin, and refuses bad input without a change', async () => {
    const { processor, state } = recorder('hidden', ['appointment.requested']);
    const t = await start([processor], 1);
    const patient = await buildPatient(t);
    const admin = await buildAdmin(t);
    state.failing = true;
    await requestAppointment(t, patient, await buildPractitioner(t));
    await run(t, 'hidden');
    const [row] = await deliveries(t, 'hidden');
    for (const res of [
      await patient.client.get('/api/admin/outbox?state=dead'),
      await patient.client.post(`/api/admin/outbox/${row!.id}/retry`),
    ]) {
      expect(res.statusCode).toBe(404);
      expect(res.json<{ code: string }>().code).toBe('not_found');
    }
    const bad = await admin.client.get('/api/admin/outbox?state=lost');
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ code: string }>().code).toBe('validation_failed');
    expect((await admin.client.post('/api/admin/outbox/abc/retry')).statusCode).toBe(400);
    expect((await admin.client.post('/api/admin/outbox/999999/retry')).statusCode).toBe(404);
    expect((await deliveries(t, 'hidden'))[0]).toMatchObject({ state: 'dead', attempts: 1 });
  });

  it('pages dead letters newest first', async () => {
    const { processor, state } = recorder('pages', ['appointment.requested']);
    const t = await start([processor], 1);
    const admin = await buildAdmin(t);
    const patient = await buildPatient(t);
    const practitioner = await buildPractitioner(t);
    state.failing = true;
    for (let i = 0; i < 3; i++) await requestAppointment(t, patient, practitioner);
    await run(t, 'pages');
    const first = (
      await admin.client.get('/api/admin/outbox?state=dead&processor=pages&limit=2')
    ).json<OutboxPageWire>();
    expect(first.deliveries).toHaveLength(2);
    const second = (
      await admin.client.get(
        `/api/admin/outbox?state=dead&processor=pages&limit=2&beforeId=${first.nextBeforeId!}`,
      )
    ).json<OutboxPageWire>();
    expect(second.deliveries).toHaveLength(1);
    expect(second.nextBeforeId).toBeNull();
    const ids = [...first.deliveries, ...second.deliveries].map((d) => Number(d.id));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
  });
});

describe('outbox: telemetry', () => {
  it('tells an observer the lag of each delivery and each failure, dead or not', async () => {
    const { processor, state } = recorder('observed', ['appointment.requested']);
    const t = await start([processor], 2);
    const clock = manualClock(t);
    const seen = { lags: [] as number[], failed: [] as boolean[] };
    const dispatcher = new OutboxDispatcher({
      store: t.services.store,
      clock,
      log: pino({ level: 'silent' }),
      registry: t.services.outbox.registry,
      settings: t.services.outbox.dispatcher.settings,
      observer: {
        processed: (name, lags) => name === 'observed' && seen.lags.push(...lags),
        failed: (name, dead) => name === 'observed' && seen.failed.push(dead),
      },
    });
    const patient = await buildPatient(t);
    const practitioner = await buildPractitioner(t);
    await requestAppointment(t, patient, practitioner);
    clock.advance(250);
    await dispatcher.run('observed');
    expect(seen.lags).toEqual([250]);
    state.failing = true;
    await requestAppointment(t, patient, practitioner);
    await dispatcher.run('observed');
    clock.advance(1000);
    await dispatcher.run('observed');
    expect(seen.failed).toEqual([false, true]);
    // The admin's summary is where the gauges come from.
    expect(await t.services.outbox.admin.processors()).toContainEqual(
      expect.objectContaining({ processor: 'observed', pending: 0, dead: 1 }),
    );
  });
});

describe('outbox: retention', () => {
  it('prunes done deliveries and their events after the retention period, never pending or dead work', async () => {
    const done = recorder('keeps-up', ['appointment.requested']);
    const stuck = recorder('stuck', ['appointment.requested']);
    const t = await start([done.processor, stuck.processor], 1);
    const clock = manualClock(t);
    const patient = await buildPatient(t);
    const practitioner = await buildPractitioner(t);
    stuck.state.failing = true;
    await requestAppointment(t, patient, practitioner);
    await run(t, 'keeps-up');
    await run(t, 'stuck');
    expect((await deliveries(t, 'stuck'))[0]).toMatchObject({ state: 'dead' });

    const retention = t.services.outbox.dispatcher.settings.retentionMs;
    clock.advance(retention - 1000);
    expect(await t.jobs.runNow('outbox-prune')).toBe(true);
    expect(await deliveries(t, 'keeps-up')).toHaveLength(1);

    clock.advance(2000);
    expect(await t.jobs.runNow('outbox-prune')).toBe(true);
    expect(await deliveries(t, 'keeps-up')).toHaveLength(0);
    // The dead delivery stays, and so does its event.
    const [dead] = await deliveries(t, 'stuck');
    expect(dead).toMatchObject({ state: 'dead' });
    const kept = await events(t);
    expect(kept.map((e) => e.id)).toContain(dead!.event_id);
    // Events no delivery needs (the people's creation wrote none; the room was never opened)
    // are gone once past the retention period.
    expect(kept.every((e) => e.id === dead!.event_id)).toBe(true);
  });
});
