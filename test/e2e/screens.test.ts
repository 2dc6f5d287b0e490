import { randomUUID } from 'node:crypto';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { TEST_PASSWORD } from '../support/app.js';
import {
  DESKTOP,
  hasHorizontalScroll,
  PHONE,
  screenshot,
  seriousViolations,
  signIn,
  useBrowser,
} from './browser.js';
import { buildPractice } from './fixtures.js';

/**
 * Every screen, at a desktop's width and a phone's: no serious accessibility finding, no
 * sideways scrolling, and a screenshot for people to look at (test-results/screenshots).
 * Also: an admin disables an account, and that person's open session ends.
 */
describe('every screen, desktop and phone', () => {
  const { server, open } = useBrowser();

  async function check(page: Page, path: string, name: string, heading: string | RegExp) {
    for (const [size, viewport] of [
      ['desktop', DESKTOP],
      ['phone', PHONE],
    ] as const) {
      await page.setViewportSize(viewport);
      await page.goto(path);
      await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
      await expect.poll(() => page.locator('.state-loading').count()).toBe(0);
      await page.waitForTimeout(150);
      expect(await seriousViolations(page), `${name} at ${size}`).toEqual([]);
      expect(await hasHorizontalScroll(page), `${name} scrolls sideways at ${size}`).toBe(false);
      await screenshot(page, `${name}-${size}`);
    }
  }

  it('has no serious accessibility problem and no sideways scroll on any screen', async () => {
    const practice = await buildPractice(server.app, {
      patient: 'Carol Anderson',
      practitioner: 'Emily Davis',
    });
    await practice.patientApi.post(`/api/rooms/${practice.roomId}/messages`, {
      clientId: randomUUID(),
      body: 'Good morning. Could you look at https://example.org/results when you have a moment?',
    });
    await practice.practitionerApi.post(`/api/rooms/${practice.roomId}/messages`, {
      clientId: randomUUID(),
      body: 'Of course, Carol.\nI will get back to you this afternoon.',
    });
    // A request waiting for the practitioner's answer.
    await practice.patientApi.post('/api/appointments', {
      practitionerId: practice.practitioner.id,
      startsAt: new Date(Date.now() + 3 * 86_400_000).toISOString(),
      reason: 'Annual check-up',
    });
    const admin = await server.app.createUser('admin', { name: 'Alex Admin' });

    const anonymous = await open();
    await check(anonymous, '/login', 'login', 'Sign in');

    const patient = await open();
    await signIn(patient, practice.patient.email, TEST_PASSWORD);
    await check(patient, '/patient-dashboard', 'patient-dashboard', /Hello, Carol/);
    await check(patient, '/appointments/new', 'request-appointment', 'Request an appointment');
    await check(patient, '/appointments', 'appointments-patient', 'Appointments');
    await check(patient, '/chat/', 'chat-list-patient', 'Messages');
    await check(patient, `/chat/room/${practice.roomId}/`, 'chat-room-patient', 'Emily Davis');

    const practitioner = await open();
    await signIn(practitioner, practice.practitioner.email, TEST_PASSWORD);
    await check(practitioner, '/practitioner-dashboard', 'practitioner-dashboard', /Welcome/);
    await check(
      practitioner,
      '/practitioner-dashboard/chat/',
      'chat-list-practitioner',
      'Messages',
    );
    await check(
      practitioner,
      `/chat/room/${practice.roomId}/`,
      'chat-room-practitioner',
      'Carol Anderson',
    );
    await check(practitioner, '/appointments', 'appointments-practitioner', 'Appointments');

    const adminPage = await open();
    await signIn(adminPage, admin.email, TEST_PASSWORD);
    await check(adminPage, '/admin/', 'admin-users', 'Users');
    await check(adminPage, '/admin/appointments', 'admin-appointments', 'Appointments');
    await check(adminPage, '/admin/rooms', 'admin-rooms', 'Rooms');
    await check(adminPage, '/admin/audit', 'admin-audit', 'Audit log');
    await check(adminPage, '/admin/outbox', 'admin-outbox', 'Outbox');
  }, 180_000);

  it('an admin disables an account and its open session ends at once', async () => {
    const patientUser = await server.app.createUser('patient', { name: 'Grace Tan' });
    const admin = await server.app.createUser('admin', { name: 'Riley Admin' });
    const patient = await open();
    await signIn(patient, patientUser.email, TEST_PASSWORD);
    await patient.getByRole('heading', { name: 'Hello, Grace' }).waitFor();

    const adminPage = await open();
    await signIn(adminPage, admin.email, TEST_PASSWORD);
    await adminPage.getByLabel('Search by name or email').fill('Grace Tan');
    await adminPage.getByRole('button', { name: 'Disable Grace Tan' }).click();
    await adminPage.getByText('Grace Tan can no longer sign in', { exact: false }).waitFor();

    // Without any click or reload, the patient's tab is taken back to the sign-in page.
    await patient.waitForURL('**/login', { timeout: 10_000 });
    await patient.getByText('Your session has ended', { exact: false }).waitFor();

    // And signing in again is refused.
    await patient.getByLabel('Email address').fill(patientUser.email);
    await patient.getByLabel('Password').fill(TEST_PASSWORD);
    await patient.getByRole('button', { name: 'Sign in' }).click();
    await patient.getByRole('alert').waitFor();
    expect(new URL(patient.url()).pathname).toBe('/login');
  });
});
