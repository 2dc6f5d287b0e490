import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCtx } from '../../src/domain/context.js';
import type { Role } from '../../src/store/schema.js';
import { TEST_PASSWORD, type TestApp, type TestClient } from '../support/app.js';
import { inFuture, startMessagingApp } from '../support/factories.js';

let t: TestApp;
beforeAll(async () => {
  t = await startMessagingApp();
});
afterAll(async () => {
  await t.stop();
});

/** An account with a profile photo of its own bytes, signed in. */
async function withPhoto(
  role: Role,
): Promise<{ id: string; photoId: string; bytes: Buffer; client: TestClient }> {
  const photoId = randomUUID();
  const bytes = Buffer.from(`photo of a ${role} ${photoId}`);
  await t.services.store.system().files.insert({
    id: photoId,
    owner_id: null,
    content_type: 'image/webp',
    byte_size: bytes.length,
    data: bytes,
    created_at: t.clock.now(),
  });
  const email = `${role}.${randomUUID().slice(0, 8)}@example.com`;
  const user = await t.services.accounts.create(systemCtx(), {
    role,
    email,
    name: `${role} with a photo`,
    password: TEST_PASSWORD,
    photoFileId: photoId,
    ...(role === 'practitioner' ? { specialty: 'General Practice' } : {}),
  });
  return { id: user.id, photoId, bytes, client: await t.login(user) };
}

describe('profile photos', () => {
  it("shows a patient's photo only to the patient, the practitioners they share an appointment or room with, and admins", async () => {
    const patient = await withPhoto('patient');
    const requested = await withPhoto('practitioner');
    const accepted = await withPhoto('practitioner');
    const stranger = await withPhoto('practitioner');
    const otherPatient = await withPhoto('patient');
    const admin = await withPhoto('admin');

    // One appointment still requested, one accepted (its room open).
    for (const d of [requested, accepted]) {
      const res = await patient.client.post('/api/appointments', {
        practitionerId: d.id,
        startsAt: inFuture(t),
        reason: 'Check-up',
      });
      expect(res.statusCode).toBe(201);
      if (d === accepted) {
        const id = res.json<{ id: string }>().id;
        expect((await d.client.post(`/api/appointments/${id}/accept`, {})).statusCode).toBe(200);
      }
    }

    const url = `/api/files/${patient.photoId}`;
    for (const viewer of [patient, requested, accepted, admin]) {
      const res = await viewer.client.get(url);
      expect(res.statusCode).toBe(200);
      expect(res.rawPayload.equals(patient.bytes)).toBe(true);
    }
    const unknown = await patient.client.get(`/api/files/${randomUUID()}`);
    for (const viewer of [stranger, otherPatient]) {
      const res = await viewer.client.get(url);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ code: 'not_found' });
      // Exactly like a photo that does not exist.
      expect(res.json<{ title: string }>().title).toBe(unknown.json<{ title: string }>().title);
      expect(res.rawPayload.includes(patient.bytes)).toBe(false);
    }
  });

  it("shows practitioners' photos to everyone signed in, and nothing to anyone signed out", async () => {
    const doctor = await withPhoto('practitioner');
    const patient = await withPhoto('patient');
    const colleague = await withPhoto('practitioner');
    for (const viewer of [patient, colleague, doctor]) {
      const res = await viewer.client.get(`/api/files/${doctor.photoId}`);
      expect(res.statusCode).toBe(200);
      expect(res.rawPayload.equals(doctor.bytes)).toBe(true);
    }
    const anonymous = await t.app.inject({ method: 'GET', url: `/api/files/${doctor.photoId}` });
    expect(anonymous.statusCode).toBe(401);
  });

  it('answers 404 for a stored file that is nobody’s profile photo', async () => {
    const admin = await withPhoto('admin');
    const id = randomUUID();
    await t.services.store.system().files.insert({
      id,
      owner_id: null,
      content_type: 'image/png',
      byte_size: 3,
      data: Buffer.from('abc'),
      created_at: t.clock.now(),
    });
    expect((await admin.client.get(`/api/files/${id}`)).statusCode).toBe(404);
  });
});
