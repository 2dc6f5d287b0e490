import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRow } from '../../src/store/audit-repository.js';
import type { TestApp } from '../support/app.js';
import {
  auditRows,
  buildAcceptedAppointment,
  buildAdmin,
  buildPatient,
  buildPractitioner,
  detailOf,
  manualClock,
  requestAppointment,
  startMessagingApp,
  type Person,
} from '../support/factories.js';

const REASON = 'GAPS-CANARY-5d1 chest pain when climbing stairs';
const PER_MINUTE = 3;

let t: TestApp;
let admin: Person;
let patient: Person;
let doctor: Person;
beforeAll(async () => {
  t = await startMessagingApp({ env: { AUDIT_DENIED_PER_MINUTE: String(PER_MINUTE) } });
  admin = await buildAdmin(t);
  patient = await buildPatient(t);
  doctor = await buildPractitioner(t);
});
afterAll(async () => {
  await t.stop();
});

/** Rows written since `mark` (the head's id before the request). */
async function since(mark: number, action?: string): Promise<AuditRow[]> {
  const rows = await t.services.store.audit.chainPage(mark, 1000);
  return action ? rows.filter((r) => r.action === action) : rows;
}
const mark = async () => (await t.services.store.audit.head())?.id ?? 0;

describe('reads that were not audited', () => {
  it('an appointment read by id (it carries the reason) writes appointment.read', async () => {
    const a = await requestAppointment(t, patient, doctor, { reason: REASON });
    for (const reader of [patient, doctor]) {
      const before = await mark();
      const res = await reader.client.get(`/api/appointments/${a.id}`);
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('GAPS-CANARY');
      const rows = await since(before, 'appointment.read');
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        actor_id: reader.user.id,
        target_type: 'appointment',
        target_id: a.id,
      });
      expect(JSON.stringify(rows[0])).not.toContain('GAPS-CANARY');
    }
  });

  it("the admin's reads of accounts, rooms and the trail itself each write a row", async () => {
    await buildAcceptedAppointment(t, patient, doctor);
    const cases: [string, string, Record<string, unknown>][] = [
      ['/api/admin/users?role=patient', 'user.list', { role: 'patient', searched: false }],
      ['/api/admin/users?q=smith', 'user.list', { role: null, searched: true }],
      ['/api/admin/rooms', 'room.admin_list', { offset: 0 }],
      ['/api/admin/audit?limit=5', 'audit.read', { count: 5 }],
    ];
    for (const [url, action, detail] of cases) {
      const before = await mark();
      const res = await admin.client.get(url);
      expect(res.statusCode, url).toBe(200);
      const rows = await since(before, action);
      expect(rows, url).toHaveLength(1);
      expect(rows[0]!.actor_id).toBe(admin.user.id);
      expect(detailOf(rows[0]!)).toMatchObject(detail);
      // What was searched for is not repeated in the trail.
      expect(rows[0]!.detail).not.toContain('smith');
    }
    const listed = await since(0, 'user.list');
    expect(detailOf(listed.at(-2)!).count).toBeGreaterThanOrEqual(1);
  });
});

describe('refused access writes access.denied', () => {
  it("another user's room, its messages, an appointment; a CSRF refusal; an invalid move; a sign-in refused by validation", async () => {
    const { roomId, appointment } = await buildAcceptedAppointment(t, patient, doctor);
    const stranger = await buildPatient(t);
    // Each caller has a budget of refusals a minute; a second stranger keeps within it.
    const other = await buildPatient(t);
    const probes: {
      name: string;
      send: () => Promise<{ statusCode: number }>;
      status: number;
      expect: Partial<AuditRow>;
      detail: Record<string, unknown>;
    }[] = [
      {
        name: 'room',
        send: () => stranger.client.get(`/api/rooms/${roomId}`),
        status: 404,
        expect: { actor_id: stranger.user.id, target_id: roomId },
        detail: { code: 'not_found', method: 'GET', route: '/api/rooms/:id' },
      },
      {
        name: 'messages',
        send: () => stranger.client.get(`/api/rooms/${roomId}/messages`),
        status: 404,
        expect: { actor_id: stranger.user.id, target_id: roomId },
        detail: { code: 'not_found', method: 'GET', route: '/api/rooms/:id/messages' },
      },
      {
        name: 'send into it',
        send: () =>
          stranger.client.post(`/api/rooms/${roomId}/messages`, {
            clientId: randomUUID(),
            body: 'GAPS-CANARY-body',
          }),
        status: 404,
        expect: { actor_id: stranger.user.id, target_id: roomId },
        detail: { code: 'not_found', method: 'POST', route: '/api/rooms/:id/messages' },
      },
      {
        name: 'appointment',
        send: () => other.client.get(`/api/appointments/${appointment.id}`),
        status: 404,
        expect: { actor_id: other.user.id, target_id: appointment.id },
        detail: { code: 'not_found', method: 'GET', route: '/api/appointments/:id' },
      },
      {
        name: 'csrf',
        send: () =>
          t.app.inject({
            method: 'POST',
            url: `/api/rooms/${roomId}/read`,
            headers: {
              cookie: patient.client.cookie,
              'x-csrf-token': 'stale',
              origin: t.config.publicOrigin,
            },
            payload: { seq: 1 },
          }),
        status: 403,
        expect: { actor_id: patient.user.id, target_id: roomId },
        detail: { code: 'csrf_invalid', method: 'POST', route: '/api/rooms/:id/read' },
      },
      {
        name: 'invalid transition',
        send: () => doctor.client.post(`/api/appointments/${appointment.id}/accept`, {}),
        status: 409,
        expect: { actor_id: doctor.user.id, target_id: appointment.id },
        detail: { code: 'invalid_transition', method: 'POST' },
      },
      {
        name: 'sign-in refused by validation',
        send: () =>
          t.app.inject({
            method: 'POST',
            url: '/api/auth/login',
            headers: { origin: t.config.publicOrigin },
            payload: { email: 'GAPS-CANARY-not-an-address' },
          }),
        status: 400,
        expect: { actor_id: null, actor_role: null, ip: '127.0.0.1', target_id: null },
        detail: { code: 'validation_failed', method: 'POST', route: '/api/auth/login' },
      },
    ];
    for (const p of probes) {
      const before = await mark();
      const res = await p.send();
      expect(res.statusCode, p.name).toBe(p.status);
      const rows = await since(before, 'access.denied');
      expect(rows, p.name).toHaveLength(1);
      expect(rows[0], p.name).toMatchObject(p.expect);
      expect(detailOf(rows[0]!), p.name).toMatchObject(p.detail);
      // What was asked, never what was sent.
      expect(JSON.stringify(rows[0]), p.name).not.toContain('GAPS-CANARY');
    }
  });

  it('is throttled per caller and kind, and counts what it held back', async () => {
    const prober = await buildPatient(t);
    const clock = manualClock(t);
    const probe = () => prober.client.get(`/api/rooms/${randomUUID()}`);
    const rowsOf = async () =>
      (await auditRows(t, { action: 'access.denied', actorId: prober.user.id })).map(detailOf);

    for (let i = 0; i < 10; i++) expect((await probe()).statusCode).toBe(404);
    expect(await rowsOf()).toHaveLength(PER_MINUTE);
    // Another kind of refusal has its own budget.
    const csrf = await t.app.inject({
      method: 'POST',
      url: `/api/rooms/${randomUUID()}/read`,
      headers: { cookie: prober.client.cookie, origin: t.config.publicOrigin },
      payload: { seq: 1 },
    });
    expect(csrf.statusCode).toBe(403);
    expect(await rowsOf()).toHaveLength(PER_MINUTE + 1);

    // A minute later the next refusal is written again, carrying the count held back.
    clock.advance(61_000);
    expect((await probe()).statusCode).toBe(404);
    const after = await rowsOf();
    expect(after).toHaveLength(PER_MINUTE + 2);
    expect(after.at(-1)).toMatchObject({ code: 'not_found', suppressedBefore: 10 - PER_MINUTE });

    // A caller who stops probing still has its held-back count written, by the flush.
    for (let i = 0; i < PER_MINUTE + 4; i++) await probe();
    clock.advance(61_000);
    await t.services.denials.flush();
    const flushed = await rowsOf();
    expect(flushed.at(-1)).toMatchObject({ code: 'not_found', suppressed: 5 });
    expect(flushed).toHaveLength(PER_MINUTE + 2 + (PER_MINUTE - 1) + 1);
  });
});
