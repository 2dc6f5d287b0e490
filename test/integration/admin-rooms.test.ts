import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp, type TestClient } from '../support/app.js';

describe('admin view of conversations', () => {
  let t: TestApp;
  let admin: TestClient;
  let patient: TestClient;
  let roomId: string;
  const secret = 'my blood test results worry me';

  beforeAll(async () => {
    t = await startTestApp();
    const p = await t.createUser('patient');
    const d = await t.createUser('practitioner');
    const a = await t.createUser('admin');
    patient = await t.login(p);
    const practitioner = await t.login(d);
    admin = await t.login(a);
    const appt = await patient.post('/api/appointments', {
      practitionerId: d.id,
      startsAt: new Date(t.clock.now() + 86_400_000).toISOString(),
      reason: 'Results',
    });
    const accepted = await practitioner.post(
      `/api/appointments/${appt.json<{ id: string }>().id}/accept`,
      {},
    );
    roomId = accepted.json<{ roomId: string }>().roomId;
    await patient.post(`/api/rooms/${roomId}/messages`, {
      clientId: crypto.randomUUID(),
      body: secret,
    });
  });
  afterAll(() => t.stop());

  it('lists rooms with participants and message counts but never a body', async () => {
    const res = await admin.get('/api/admin/rooms');
    expect(res.statusCode).toBe(200);
    const rooms = res.json<{ id: string; messageCount: number; appointmentStatus: string }[]>();
    expect(rooms).toHaveLength(1);
    expect(rooms[0]).toMatchObject({
      id: roomId,
      messageCount: 1,
      appointmentStatus: 'accepted',
      status: 'open',
      closedReason: null,
    });
    expect(res.body).not.toContain(secret);
  });

  it('lists every appointment for the admin', async () => {
    const res = await admin.get('/api/admin/appointments');
    expect(res.statusCode).toBe(200);
    expect(res.json<unknown[]>()).toHaveLength(1);
  });

  it('answers 404 to anyone who is not an admin', async () => {
    expect((await patient.get('/api/admin/rooms')).statusCode).toBe(404);
    expect((await patient.get('/api/admin/appointments')).statusCode).toBe(404);
    // Not even a malformed query tells a non-admin that the route exists.
    expect((await patient.get('/api/admin/rooms?limit=abc')).statusCode).toBe(404);
    expect((await admin.get(`/api/rooms/${roomId}/messages`)).statusCode).toBe(404);
  });
});
