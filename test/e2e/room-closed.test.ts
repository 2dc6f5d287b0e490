import { describe, expect, it } from 'vitest';
import { TEST_PASSWORD } from '../support/app.js';
import { signIn, useBrowser, watchErrors } from './browser.js';
import { roomOf } from '../support/factories.js';
import { buildPractice } from './fixtures.js';

/** A cancelled appointment's conversation, as both people see it in Chromium. */
describe('a closed conversation in the browser', () => {
  const { server, open } = useBrowser();

  it('shows why it closed, keeps the history, turns the composer off, and lets the practitioner reopen it', async () => {
    const practice = await buildPractice(server.app, {
      patient: 'Nadia Okafor',
      practitioner: 'Henrik Larsen',
    });
    await practice.patientApi.post(`/api/rooms/${practice.roomId}/messages`, {
      clientId: crypto.randomUUID(),
      body: 'Can we move the appointment?',
    });
    const cancelled = await practice.patientApi.post(
      `/api/appointments/${practice.appointment.id}/cancel`,
      {},
    );
    expect(cancelled.statusCode).toBe(200);

    const patient = await open();
    const patientErrors = watchErrors(patient);
    await signIn(patient, practice.patient.email, TEST_PASSWORD);
    await patient.goto(`/chat/room/${practice.roomId}/`);
    await patient.getByText('Can we move the appointment?').waitFor();
    await patient.getByText('its appointment was cancelled', { exact: false }).waitFor();
    expect(await patient.getByLabel('Message to Henrik Larsen').isDisabled()).toBe(true);
    expect(await patient.getByRole('button', { name: 'Reopen conversation' }).count()).toBe(0);

    const practitioner = await open();
    await signIn(practitioner, practice.practitioner.email, TEST_PASSWORD);
    await practitioner.goto(`/chat/room/${practice.roomId}/`);
    await practitioner.getByRole('button', { name: 'Reopen conversation' }).click();
    await expect
      .poll(() => practitioner.getByLabel('Message to Nadia Okafor').isEnabled())
      .toBe(true);
    expect((await roomOf(practice.patientApi, practice.roomId)).status).toBe('open');

    // The patient's page hears of the reopening live and turns the composer back on.
    await expect.poll(() => patient.getByLabel('Message to Henrik Larsen').isEnabled()).toBe(true);
    expect(await patient.getByText('its appointment was cancelled', { exact: false }).count()).toBe(
      0,
    );
    expect(patientErrors).toEqual([]);
  }, 60_000);
});
