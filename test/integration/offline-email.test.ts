import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OutboxPageWire } from '../../src/shared/outbox.js';
import type { TestApp } from '../support/app.js';
import {
  buildAcceptedAppointment,
  buildAdmin,
  buildPatient,
  buildPractitioner,
  manualClock,
  markRead,
  send,
  startMessagingApp,
  type AcceptedAppointment,
} from '../support/factories.js';
import { SmtpSink, type ReceivedMail } from '../support/smtp-sink.js';
import { WsClient } from '../support/ws-client.js';

/**
 * E-mail for offline recipients, end to end: messages over HTTP, the outbox processor run
 * by the job scheduler, a real SMTP server on 127.0.0.1, and a manual clock for the quiet
 * period and the reminder.
 */
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const PROCESSOR = 'offline-email';
const SECRET_BODY = 'Your biopsy shows carcinoma in situ';
const REASON = 'Lump in the left breast since March';
const SPECIALTY = 'Oncology';

let smtp: SmtpSink;
const cleanup: (() => Promise<unknown>)[] = [];
beforeEach(async () => {
  smtp = await SmtpSink.start();
  cleanup.push(() => smtp.close());
});
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function start(env: Record<string, string> = {}): Promise<TestApp> {
  const t = await startMessagingApp({
    listen: true,
    env: {
      SMTP_URL: smtp.url,
      PRACTICE_NAME: 'Riverside Clinic',
      // The clock moves by days; the sessions of the test's people must outlive that.
      SESSION_IDLE_MINUTES: '100000',
      SESSION_ABSOLUTE_MINUTES: '100000',
      ...env,
    },
    // Dispatch only when the test says so; retries after 1 s, 2 s, …
    outbox: { pollMs: 3_600_000, backoffBaseMs: 1000, maxAttempts: 4 },
  });
  cleanup.push(() => t.stop());
  const deadline = Date.now() + 10_000;
  while (!t.jobs.isRunner) {
    if (Date.now() > deadline) throw new Error('not the job runner');
    await new Promise((r) => setTimeout(r, 10));
  }
  return t;
}

async function run(t: TestApp): Promise<void> {
  expect(await t.jobs.runNow(`outbox:${PROCESSOR}`)).toBe(true);
}

async function conversation(t: TestApp): Promise<AcceptedAppointment> {
  const practitioner = await buildPractitioner(t, {
    specialty: SPECIALTY,
    name: 'Dr Ada Lovelace',
  });
  const patient = await buildPatient(t, { name: 'Grace Hopper' });
  return buildAcceptedAppointment(t, patient, practitioner, { reason: REASON });
}

function expectNothingSensitive(mail: ReceivedMail, c: AcceptedAppointment): void {
  const everything = `${mail.raw}\n${mail.text}\n${mail.html}`;
  for (const secret of [
    SECRET_BODY,
    'biopsy',
    'carcinoma',
    REASON,
    'breast',
    SPECIALTY,
    c.practitioner.user.name,
    c.patient.user.name,
  ])
    expect(everything.toLowerCase(), secret).not.toContain(secret.toLowerCase());
}

describe('e-mail for offline recipients', () => {
  it('sends exactly one e-mail after the quiet period, then one reminder a day later', async () => {
    const t = await start();
    const clock = manualClock(t);
    const c = await conversation(t);
    await send(c.practitionerClient, c.roomId, SECRET_BODY);

    await run(t);
    clock.advance(10 * MINUTE - 1);
    await run(t);
    expect(smtp.mails).toHaveLength(0);

    clock.advance(1);
    await run(t);
    expect(smtp.mails).toHaveLength(1);
    const mail = smtp.mails[0]!;
    expect(mail.to).toEqual([c.patient.user.email]);
    expect(mail.headers.get('subject')).toBe('New secure message from Riverside Clinic');
    expect(mail.text).toContain('You have a new secure message from Riverside Clinic.');
    expect(mail.text).toContain(`${t.url}/chat/room/${c.roomId}`);
    expect(mail.html).toContain('You have a new secure message from Riverside Clinic.');
    expect(mail.html).toContain(`href="${t.url}/chat/room/${c.roomId}"`);
    expect(mail.headers.get('list-unsubscribe')).toMatch(
      new RegExp(
        `^<${t.url}/api/notifications/unsubscribe\\?u=${c.patient.user.id}&s=[\\w-]{43}>$`,
      ),
    );
    expect(mail.headers.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    expect(mail.headers.get('message-id')).toMatch(/^<.+@127\.0\.0\.1>$/);
    expectNothingSensitive(mail, c);

    // Later rounds send nothing more until the reminder is due.
    clock.advance(23 * HOUR);
    await run(t);
    expect(smtp.mails).toHaveLength(1);
    clock.advance(HOUR);
    await run(t);
    expect(smtp.mails).toHaveLength(2);
    const reminder = smtp.mails[1]!;
    expect(reminder.headers.get('subject')).toBe(
      'Reminder: unread secure message from Riverside Clinic',
    );
    expect(reminder.headers.get('message-id')).not.toBe(mail.headers.get('message-id'));
    expectNothingSensitive(reminder, c);

    clock.advance(7 * 24 * HOUR);
    await run(t);
    expect(smtp.mails).toHaveLength(2);
    const left = await t.services.store.db
      .selectFrom('event_deliveries')
      .select('state')
      .where('processor', '=', PROCESSOR)
      .execute();
    expect(left.map((d) => d.state)).toEqual(['done']);
  });

  it('sends nothing when the message was read first', async () => {
    const t = await start();
    const clock = manualClock(t);
    const c = await conversation(t);
    const m = await send(c.practitionerClient, c.roomId, SECRET_BODY);
    clock.advance(5 * MINUTE);
    await run(t);
    await markRead(c.patientClient, c.roomId, m.seq);
    clock.advance(5 * MINUTE);
    await run(t);
    clock.advance(25 * HOUR);
    await run(t);
    expect(smtp.mails).toHaveLength(0);
  });

  it('gives a burst of 20 messages in one room one e-mail (and one reminder)', async () => {
    const t = await start();
    const clock = manualClock(t);
    const c = await conversation(t);
    for (let i = 0; i < 20; i++) {
      await send(c.practitionerClient, c.roomId, `${SECRET_BODY} (${i})`);
      clock.advance(10_000);
    }
    const events = await t.services.store.db
      .selectFrom('event_deliveries')
      .select('id')
      .where('processor', '=', PROCESSOR)
      .execute();
    expect(events.length).toBeGreaterThan(1);
    clock.advance(10 * MINUTE);
    await run(t);
    expect(smtp.mails).toHaveLength(1);
    clock.advance(10 * MINUTE);
    await run(t);
    expect(smtp.mails).toHaveLength(1);
    clock.advance(24 * HOUR);
    await run(t);
    expect(smtp.mails).toHaveLength(2);

    // A message after the first e-mail's quiet period gets its own e-mail.
    await send(c.practitionerClient, c.roomId, 'one more');
    clock.advance(10 * MINUTE);
    await run(t);
    expect(smtp.mails).toHaveLength(3);
    expect(smtp.mails[2]!.headers.get('subject')).toBe('New secure message from Riverside Clinic');
  });

  it('tells practitioners of patient messages too, after their own quiet period', async () => {
    const t = await start();
    const clock = manualClock(t);
    const c = await conversation(t);
    const put = await c.practitionerClient.request('PUT', '/api/me/notifications', {
      email: 'offline',
      quietMinutes: 3,
      push: true,
    });
    expect(put.statusCode).toBe(200);
    await send(c.patientClient, c.roomId, SECRET_BODY);
    clock.advance(3 * MINUTE);
    await run(t);
    expect(smtp.mails.map((m) => m.to)).toEqual([[c.practitioner.user.email]]);
    expectNothingSensitive(smtp.mails[0]!, c);
  });

  it('waits while the recipient has a live connection, and sends once they leave with it unread', async () => {
    // With Redis, presence is counted there, across processes.
    const redis = process.env.TEST_REDIS_URL;
    const t = await start(
      redis ? { REDIS_URL: redis, REDIS_PREFIX: `mail-test-${randomUUID().slice(0, 8)}:` } : {},
    );
    const clock = manualClock(t);
    const c = await conversation(t);
    const ws = await WsClient.live(t.url, c.patientClient.cookie);
    await send(c.practitionerClient, c.roomId, SECRET_BODY);
    clock.advance(10 * MINUTE);
    await run(t);
    expect(smtp.mails).toHaveLength(0);
    await ws.close();
    // The presence count drops as the socket closes on the server.
    const deadline = Date.now() + 5000;
    while (await t.gateway.isOnline(c.patient.user.id)) {
      if (Date.now() > deadline) throw new Error('still online');
      await new Promise((r) => setTimeout(r, 10));
    }
    clock.advance(10 * MINUTE);
    await run(t);
    expect(smtp.mails).toHaveLength(1);
  });

  it('sends nothing to someone who turned e-mail off', async () => {
    const t = await start();
    const clock = manualClock(t);
    const c = await conversation(t);
    await c.patientClient.request('PUT', '/api/me/notifications', {
      email: 'off',
      quietMinutes: 10,
      push: true,
    });
    await send(c.practitionerClient, c.roomId, SECRET_BODY);
    clock.advance(25 * HOUR);
    await run(t);
    expect(smtp.mails).toHaveLength(0);
  });

  it("the e-mail's unsubscribe link works without a session and stops later e-mails; a forged one is refused", async () => {
    const t = await start();
    const clock = manualClock(t);
    const c = await conversation(t);
    await send(c.practitionerClient, c.roomId, SECRET_BODY);
    clock.advance(10 * MINUTE);
    await run(t);
    const link = /^<(.+)>$/.exec(smtp.mails[0]!.headers.get('list-unsubscribe')!)![1]!;

    const forged = link.replace(/s=([\w-])/, (_, ch: string) => `s=${ch === 'A' ? 'B' : 'A'}`);
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const refused = await fetch(forged, {
      method: 'POST',
      headers: form,
      body: 'List-Unsubscribe=One-Click',
    });
    expect(refused.status).toBe(403);

    // As a mail provider does it: a plain POST, no cookie, no Origin.
    const res = await fetch(link, {
      method: 'POST',
      headers: form,
      body: 'List-Unsubscribe=One-Click',
    });
    expect(res.status).toBe(200);
    expect((await c.patientClient.get('/api/me/notifications')).json()).toMatchObject({
      email: 'off',
    });
    await send(c.practitionerClient, c.roomId, 'and another');
    clock.advance(25 * HOUR);
    await run(t);
    // The reminder for the first e-mail is not sent either.
    expect(smtp.mails).toHaveLength(1);
  });
});

describe('an SMTP server that refuses', () => {
  it('is retried after a 451 and the e-mail goes once', async () => {
    const t = await start();
    const clock = manualClock(t);
    const c = await conversation(t);
    smtp.answers.push(451, 451);
    await send(c.practitionerClient, c.roomId, SECRET_BODY);
    clock.advance(10 * MINUTE);
    await run(t);
    expect(smtp.refused).toBe(1);
    const [pending] = await t.services.store.db
      .selectFrom('event_deliveries')
      .selectAll()
      .where('processor', '=', PROCESSOR)
      .execute();
    expect(pending).toMatchObject({ state: 'pending', attempts: 1 });
    expect(pending!.last_error).toContain('451');

    clock.advance(1000);
    await run(t);
    expect(smtp.refused).toBe(2);
    clock.advance(2000);
    await run(t);
    expect(smtp.mails).toHaveLength(1);
    await run(t);
    expect(smtp.mails).toHaveLength(1);
  });

  it('a permanent 550 makes the delivery dead at once, shown to the admin with the status and no health information', async () => {
    const t = await start();
    const clock = manualClock(t);
    const c = await conversation(t);
    const admin = await buildAdmin(t);
    smtp.answers.push(550);
    await send(c.practitionerClient, c.roomId, SECRET_BODY);
    clock.advance(10 * MINUTE);
    await run(t);
    expect(smtp.refused).toBe(1);
    const res = await admin.client.get(`/api/admin/outbox?state=dead&processor=${PROCESSOR}`);
    expect(res.statusCode).toBe(200);
    const page = res.json<OutboxPageWire>();
    expect(page.deliveries).toHaveLength(1);
    const dead = page.deliveries[0]!;
    expect(dead).toMatchObject({ eventType: 'messages.committed', state: 'dead', attempts: 1 });
    expect(dead.lastError).toContain('550');
    for (const secret of [SECRET_BODY, c.patient.user.email, REASON, SPECIALTY])
      expect(dead.lastError).not.toContain(secret);
    expect(page.processors.find((p) => p.processor === PROCESSOR)).toMatchObject({ dead: 1 });

    // Once the address is fixed, the admin's retry sends it.
    const retried = await admin.client.post(`/api/admin/outbox/${dead.id}/retry`);
    expect(retried.statusCode).toBe(200);
    await run(t);
    expect(smtp.mails).toHaveLength(1);
  });
});

describe('without SMTP_URL', () => {
  it('has no e-mail processor, so no deliveries wait for one', async () => {
    const t = await startMessagingApp({});
    cleanup.push(() => t.stop());
    expect(t.services.outbox.registry.get(PROCESSOR)).toBeUndefined();
    const c = await conversation(t);
    await send(c.practitionerClient, c.roomId, SECRET_BODY);
    const rows = await t.services.store.db
      .selectFrom('event_deliveries')
      .select('processor')
      .where('processor', '=', PROCESSOR)
      .execute();
    expect(rows).toHaveLength(0);
  });
});
