import type { AppointmentWire, MessageWire } from '../../src/shared/wire.js';
import type { UserRow } from '../../src/store/schema.js';
import type { TestApp, TestClient } from '../support/app.js';

export interface Practice {
  patient: UserRow;
  practitioner: UserRow;
  patientApi: TestClient;
  practitionerApi: TestClient;
  appointment: AppointmentWire;
  roomId: string;
}

/** A patient and a practitioner with an accepted appointment, made through the public API. */
export async function buildPractice(
  app: TestApp,
  names: { patient: string; practitioner: string; specialty?: string },
  hoursAhead = 2,
): Promise<Practice> {
  const patient = await app.createUser('patient', { name: names.patient });
  const practitioner = await app.createUser('practitioner', {
    name: names.practitioner,
    specialty: names.specialty ?? 'Cardiology',
  });
  const patientApi = await app.login(patient);
  const practitionerApi = await app.login(practitioner);
  const requested = await patientApi.post('/api/appointments', {
    practitionerId: practitioner.id,
    startsAt: new Date(Date.now() + hoursAhead * 3_600_000).toISOString(),
    reason: 'Follow-up on blood pressure',
  });
  if (requested.statusCode !== 201) throw new Error(`request failed: ${requested.body}`);
  const accepted = await practitionerApi.post(
    `/api/appointments/${requested.json<AppointmentWire>().id}/accept`,
    {},
  );
  if (accepted.statusCode !== 200) throw new Error(`accept failed: ${accepted.body}`);
  const appointment = accepted.json<AppointmentWire>();
  return {
    patient,
    practitioner,
    patientApi,
    practitionerApi,
    appointment,
    roomId: appointment.roomId!,
  };
}

export async function messagesIn(client: TestClient, roomId: string): Promise<MessageWire[]> {
  const res = await client.get(`/api/rooms/${roomId}/messages?limit=200`);
  return res.json<{ messages: MessageWire[] }>().messages;
}
