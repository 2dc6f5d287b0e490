import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TEST_PASSWORD } from '../support/app.js';
import { screenshot, signIn, useBrowser, watchErrors } from './browser.js';
import { buildPractice, messagesIn } from './fixtures.js';

/**
 * The seeds' testing instructions, in a real Chromium: a patient and a practitioner, each in
 * their own browser context, talking to each other through the whole server.
 */
describe('carechat in the browser', () => {
  const { server, open } = useBrowser();

  it('patient starts a chat, practitioner answers, both live, with read ticks', async () => {
    const practice = await buildPractice(server.app, {
      patient: 'Carol Anderson',
      practitioner: 'Emily Davis',
    });
    const patient = await open();
    const practitioner = await open();
    const patientErrors = watchErrors(patient);

    await signIn(patient, practice.patient.email, TEST_PASSWORD);
    await expect.poll(() => new URL(patient.url()).pathname).toBe('/patient-dashboard');
    await signIn(practitioner, practice.practitioner.email, TEST_PASSWORD);
    await practitioner.goto('/practitioner-dashboard/chat/');
    await practitioner.getByRole('link', { name: 'Carol Anderson' }).waitFor();

    // The old address still works and lists the practitioners the patient may write to.
    await patient.goto('/patient-dashboard/chat/');
    const start = patient.getByRole('button', { name: 'Message Emily Davis' });
    await start.waitFor();
    await screenshot(patient, 'chat-list-patient-desktop');
    await start.click();
    await patient.waitForURL(`**/chat/room/${practice.roomId}/`);

    const box = patient.getByLabel('Message to Emily Davis');
    await box.fill('Hello Dr Davis, my blood pressure was 150/95 this morning.');
    await box.press('Enter');
    const sent = patient.getByText('Hello Dr Davis, my blood pressure was 150/95 this morning.');
    await sent.waitFor();
    // The window stays open and ready for the next message.
    await expect.poll(() => box.inputValue()).toBe('');
    await expect.poll(() => box.isVisible()).toBe(true);
    expect(patient.url()).toContain(`/chat/room/${practice.roomId}/`);
    await patient
      .getByText(/Sent|Delivered/)
      .first()
      .waitFor();

    // Shift+Enter is a new line, not a send.
    await box.press('Shift+Enter');
    await box.type('second line');
    expect(await box.inputValue()).toBe('\nsecond line');
    await box.fill('');

    // The practitioner sees it arrive without reloading: first the badge, then the message.
    await practitioner.getByRole('navigation', { name: 'Main' }).getByLabel('1 unread').waitFor();
    await practitioner.getByText('my blood pressure was 150/95', { exact: false }).waitFor();
    await practitioner.getByRole('link', { name: 'Carol Anderson' }).click();
    await practitioner
      .getByRole('log', { name: 'Messages' })
      .getByText('Hello Dr Davis, my blood pressure was 150/95 this morning.')
      .waitFor();

    // Read ticks on the patient's side once the practitioner has it on screen.
    await patient.getByText('Read', { exact: true }).waitFor();
    await screenshot(patient, 'chat-room-patient-desktop');

    const reply = practitioner.getByLabel('Message to Carol Anderson');
    await reply.fill('Thank you, Carol. Please take it again tonight and send me the reading.');
    await patient.getByText('Emily Davis is typing…').waitFor();
    await practitioner.getByRole('button', { name: 'Send' }).click();
    await patient.getByText('Please take it again tonight', { exact: false }).waitFor();
    await screenshot(practitioner, 'chat-room-practitioner-desktop');

    const stored = await messagesIn(practice.patientApi, practice.roomId);
    expect(stored.map((m) => m.body)).toEqual([
      'Hello Dr Davis, my blood pressure was 150/95 this morning.',
      'Thank you, Carol. Please take it again tonight and send me the reading.',
    ]);
    expect(patientErrors).toEqual([]);
  });

  it('unread badges and dashboard panels change live', async () => {
    const practice = await buildPractice(server.app, {
      patient: 'Daniel Brooks',
      practitioner: 'Priya Shah',
      specialty: 'Dermatology',
    });
    const practitioner = await open();
    await signIn(practitioner, practice.practitioner.email, TEST_PASSWORD);
    await practitioner.getByRole('heading', { name: 'Recent messages from patients' }).waitFor();
    const unreadCard = practitioner.getByTestId('unread-total');
    expect(await unreadCard.textContent()).toBe('0');

    const res = await practice.patientApi.post(`/api/rooms/${practice.roomId}/messages`, {
      clientId: randomUUID(),
      body: 'The rash on my arm is spreading.',
    });
    expect(res.statusCode).toBe(201);

    await expect.poll(() => unreadCard.textContent(), { timeout: 5000 }).toBe('1');
    await practitioner
      .getByRole('list', { name: 'Recent messages' })
      .getByText('The rash on my arm is spreading.')
      .waitFor();
    await practitioner.getByRole('navigation', { name: 'Main' }).getByLabel('1 unread').waitFor();
    await expect.poll(() => practitioner.title()).toMatch(/^\(1\) /);
    await screenshot(practitioner, 'practitioner-dashboard-desktop');

    // Opening the conversation reads it: every counter goes back to zero.
    await practitioner.getByRole('link', { name: 'Daniel Brooks' }).first().click();
    await practitioner.getByText('The rash on my arm is spreading.').waitFor();
    await practitioner.getByRole('link', { name: 'Dashboard' }).click();
    await expect.poll(() => practitioner.getByTestId('unread-total').textContent()).toBe('0');
    expect(
      await practitioner
        .getByRole('navigation', { name: 'Main' })
        .getByText(/unread/)
        .count(),
    ).toBe(0);
  });

  it('keeps a reader who scrolled up in place and offers a "new messages" marker', async () => {
    const practice = await buildPractice(server.app, {
      patient: 'Nora Quinn',
      practitioner: 'Felix Weber',
    });
    for (let i = 1; i <= 40; i++) {
      await practice.practitionerApi.post(`/api/rooms/${practice.roomId}/messages`, {
        clientId: randomUUID(),
        body: `Earlier note number ${i}`,
      });
    }
    const patient = await open();
    await signIn(patient, practice.patient.email, TEST_PASSWORD);
    await patient.goto(`/chat/room/${practice.roomId}/`);
    const log = patient.getByRole('log', { name: 'Messages' });
    await log.getByText('Earlier note number 40').waitFor();
    await log.evaluate((el) => (el.scrollTop = 0));
    await patient.waitForTimeout(300);
    const before = await log.evaluate((el) => el.scrollTop);

    await practice.practitionerApi.post(`/api/rooms/${practice.roomId}/messages`, {
      clientId: randomUUID(),
      body: 'A brand new message',
    });
    const marker = patient.getByRole('button', { name: 'New message' });
    await marker.waitFor();
    expect(Math.abs((await log.evaluate((el) => el.scrollTop)) - before)).toBeLessThan(5);
    await marker.click();
    await log.getByText('A brand new message').waitFor();
    await expect.poll(() => marker.count()).toBe(0);
  });

  it('shows markup in a message as text and runs none of it', async () => {
    const practice = await buildPractice(server.app, {
      patient: 'Mallory Stone',
      practitioner: 'Hugo Martin',
    });
    const patient = await open();
    const practitioner = await open();
    const errors = [...watchErrors(patient)];
    const practitionerErrors = watchErrors(practitioner);
    await signIn(patient, practice.patient.email, TEST_PASSWORD);
    await signIn(practitioner, practice.practitioner.email, TEST_PASSWORD);
    await practitioner.goto(`/chat/room/${practice.roomId}/`);
    await patient.goto(`/chat/room/${practice.roomId}/`);

    const evil = '<img src=x onerror=alert(1)> see https://example.org/a?b=1';
    await patient.getByLabel('Message to Hugo Martin').fill(evil);
    await patient.getByRole('button', { name: 'Send' }).click();
    for (const page of [patient, practitioner]) {
      const log = page.getByRole('log', { name: 'Messages' });
      await log.getByText('<img src=x onerror=alert(1)>', { exact: false }).waitFor();
      expect(await log.locator('img').count()).toBe(0);
      const link = log.getByRole('link', { name: 'https://example.org/a?b=1' });
      expect(await link.getAttribute('rel')).toBe('noopener noreferrer');
      expect(await link.getAttribute('target')).toBe('_blank');
    }
    await patient.waitForTimeout(300);
    expect(errors).toEqual([]);
    expect(practitionerErrors).toEqual([]);
  });

  it('a send while the server is down says "Not sent"; retry after restart delivers it once', async () => {
    const practice = await buildPractice(server.app, {
      patient: 'Olivia Reed',
      practitioner: 'Samuel Okafor',
    });
    const patient = await open();
    await signIn(patient, practice.patient.email, TEST_PASSWORD);
    await patient.goto(`/chat/room/${practice.roomId}/`);
    const box = patient.getByLabel('Message to Samuel Okafor');
    await box.waitFor();

    await server.stopServer();
    await patient.getByText('You are offline', { exact: false }).waitFor();
    await box.fill('Is it fine to take ibuprofen with my prescription?');
    await box.press('Enter');
    await patient.getByText('Not sent', { exact: false }).waitFor({ timeout: 20_000 });
    await screenshot(patient, 'chat-room-not-sent-desktop');

    await server.restartServer();
    await patient
      .getByText('You are offline', { exact: false })
      .waitFor({ state: 'detached', timeout: 25_000 });
    await patient.getByRole('button', { name: 'Retry' }).click();
    await patient
      .getByText(/Sent|Delivered|Read/)
      .last()
      .waitFor();
    await expect.poll(() => patient.getByText('Not sent', { exact: false }).count()).toBe(0);

    const api = await server.app.login(practice.patient);
    const stored = await messagesIn(api, practice.roomId);
    expect(
      stored.filter((m) => m.body === 'Is it fine to take ibuprofen with my prescription?'),
    ).toHaveLength(1);
  }, 90_000);
});
