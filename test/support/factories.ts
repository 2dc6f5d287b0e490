import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { Ctx } from '../../src/domain/context.js';
import type { ManualClock } from '../../src/domain/clock.js';
import type { AuditRow } from '../../src/store/audit-repository.js';
import type { UserRow } from '../../src/store/schema.js';
import type { AppointmentWire, MessageWire, RoomWire, UnreadWire } from '../../src/shared/wire.js';
import { startTestApp, type TestApp, type TestAppOptions, type TestClient } from './app.js';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;

/**
 * An app for conversation tests. Every test signs in several people from one address, so
 * the per-address sign-in limit is lifted; the sign-in limits have their own tests.
 */
export function startMessagingApp(opts: TestAppOptions = {}): Promise<TestApp> {
  return startTestApp({ ...opts, env: { LOGIN_MAX_PER_IP: '100000', ...opts.env } });
}

export const manualClock = (t: TestApp): ManualClock => t.clock as ManualClock;

/** A signed-in person: the account, an HTTP client with its session, and a domain context. */
export interface Person {
  user: UserRow;
  client: TestClient;
  ctx: Ctx;
}

export async function buildPerson(
  t: TestApp,
  role: UserRow['role'],
  overrides: Parameters<TestApp['createUser']>[1] = {},
): Promise<Person> {
  const user = await t.createUser(role, overrides);
  const client = await t.login(user);
  return {
    user,
    client,
    ctx: { actor: { id: user.id, role: user.role, name: user.name }, ip: '127.0.0.1' },
  };
}

export const buildPatient = (t: TestApp, o?: Parameters<TestApp['createUser']>[1]) =>
  buildPerson(t, 'patient', o);
export const buildPractitioner = (t: TestApp, o?: Parameters<TestApp['createUser']>[1]) =>
  buildPerson(t, 'practitioner', o);
export const buildAdmin = (t: TestApp) => buildPerson(t, 'admin');

export const inFuture = (t: TestApp, ms = DAY): string =>
  new Date(t.clock.now() + ms).toISOString();

/** A patient's request over HTTP; fails the test unless it is created. */
export async function requestAppointment(
  t: TestApp,
  patient: Person,
  practitioner: Person,
  opts: { startsInMs?: number; reason?: string } = {},
): Promise<AppointmentWire> {
  const res = await patient.client.post('/api/appointments', {
    practitionerId: practitioner.user.id,
    startsAt: inFuture(t, opts.startsInMs ?? DAY),
    reason: opts.reason ?? 'Follow-up on blood results',
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json<AppointmentWire>();
}

export interface AcceptedAppointment {
  appointment: AppointmentWire;
  roomId: string;
  patient: Person;
  practitioner: Person;
  patientClient: TestClient;
  practitionerClient: TestClient;
}

/** Request and accept over HTTP: the way a room is born. New people unless given. */
export async function buildAcceptedAppointment(
  t: TestApp,
  patient?: Person,
  practitioner?: Person,
  opts: { startsInMs?: number; reason?: string } = {},
): Promise<AcceptedAppointment> {
  const p = patient ?? (await buildPatient(t));
  const d = practitioner ?? (await buildPractitioner(t));
  const requested = await requestAppointment(t, p, d, opts);
  const res = await d.client.post(`/api/appointments/${requested.id}/accept`, {});
  expect(res.statusCode, res.body).toBe(200);
  const appointment = res.json<AppointmentWire>();
  expect(appointment.roomId).toEqual(expect.any(String));
  return {
    appointment,
    roomId: appointment.roomId!,
    patient: p,
    practitioner: d,
    patientClient: p.client,
    practitionerClient: d.client,
  };
}

export function sendMessage(
  client: TestClient,
  roomId: string,
  body: string,
  clientId: string = randomUUID(),
): Promise<LightMyRequestResponse> {
  return client.post(`/api/rooms/${roomId}/messages`, { clientId, body });
}

/** Sends and expects a new message. */
export async function send(client: TestClient, roomId: string, body: string): Promise<MessageWire> {
  const res = await sendMessage(client, roomId, body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json<MessageWire>();
}

export async function roomsOf(client: TestClient): Promise<RoomWire[]> {
  const res = await client.get('/api/rooms');
  expect(res.statusCode, res.body).toBe(200);
  return res.json<RoomWire[]>();
}

export async function roomOf(client: TestClient, roomId: string): Promise<RoomWire> {
  const res = await client.get(`/api/rooms/${roomId}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<RoomWire>();
}

export async function unreadOf(client: TestClient): Promise<UnreadWire> {
  const res = await client.get('/api/me/unread');
  expect(res.statusCode, res.body).toBe(200);
  return res.json<UnreadWire>();
}

export async function page(
  client: TestClient,
  roomId: string,
  query = '',
): Promise<{ messages: MessageWire[]; hasMore: boolean }> {
  const res = await client.get(`/api/rooms/${roomId}/messages${query ? `?${query}` : ''}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ messages: MessageWire[]; hasMore: boolean }>();
}

export async function markRead(client: TestClient, roomId: string, seq: number): Promise<number> {
  const res = await client.post(`/api/rooms/${roomId}/read`, { seq });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ readSeq: number }>().readSeq;
}

/** Every stored message of a room, read straight from the store, in seq order. */
export function storedMessages(t: TestApp, roomId: string) {
  return t.services.store.db
    .selectFrom('messages')
    .selectAll()
    .where('room_id', '=', roomId)
    .orderBy('seq')
    .execute();
}

export function auditRows(
  t: TestApp,
  filter: { action?: string; targetId?: string; actorId?: string } = {},
): Promise<AuditRow[]> {
  let q = t.services.store.db.selectFrom('audit_events').selectAll().orderBy('id');
  if (filter.action) q = q.where('action', '=', filter.action);
  if (filter.targetId) q = q.where('target_id', '=', filter.targetId);
  if (filter.actorId) q = q.where('actor_id', '=', filter.actorId);
  return q.execute();
}

export const detailOf = (row: AuditRow): Record<string, unknown> =>
  row.detail ? (JSON.parse(row.detail) as Record<string, unknown>) : {};

/**
 * Polls until `check` stops throwing, for work the server finishes shortly after it
 * answers (delivered marks are written in a coalesced batch). Bounded: the last failure
 * is rethrown after `timeoutMs`.
 */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 2_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
