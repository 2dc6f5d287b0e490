import { describe, expect, it } from 'vitest';
import { unsubscribeLink } from '../../src/domain/notifications/unsubscribe.js';
import { TEST_PASSWORD } from '../support/app.js';
import { seriousViolations, signIn, useBrowser, watchErrors } from './browser.js';

describe('notification settings in the browser', () => {
  const { server, open } = useBrowser();

  it('a patient finds Notifications in the menu, changes the choices, saves, and sees them kept', async () => {
    const patient = await server.app.createUser('patient', { name: 'Lena Park' });
    const page = await open();
    const errors = watchErrors(page);
    await signIn(page, patient.email, TEST_PASSWORD);
    await page
      .getByRole('navigation', { name: 'Main' })
      .getByRole('link', { name: 'Notifications' })
      .click();
    await page.getByRole('heading', { name: 'Notifications', level: 1 }).waitFor();

    const whenOffline = page.getByLabel('When I am offline and a message stays unread');
    expect(await whenOffline.isChecked()).toBe(true);
    expect(await page.getByLabel('Quiet period (minutes)').inputValue()).toBe('10');
    expect(await page.getByLabel(/Push notifications/).isChecked()).toBe(true);
    expect(await page.getByRole('region', { name: 'This device' }).count()).toBe(1);

    await page.getByLabel('Off', { exact: true }).check();
    await page.getByLabel('Quiet period (minutes)').fill('0');
    await page.getByRole('button', { name: 'Save' }).click();
    await page
      .getByRole('alert')
      .getByText(/whole number of minutes/)
      .waitFor();

    await page.getByLabel('Quiet period (minutes)').fill('30');
    await page.getByLabel(/Push notifications/).uncheck();
    await page.getByRole('button', { name: 'Save' }).click();
    await page
      .getByRole('status')
      .getByText(/^Saved\./)
      .waitFor();
    expect(await seriousViolations(page)).toEqual([]);

    const api = await server.app.login(patient);
    expect((await api.get('/api/me/notifications')).json()).toEqual({
      email: 'off',
      quietMinutes: 30,
      push: false,
    });
    await page.reload();
    await page.getByRole('heading', { name: 'Notifications', level: 1 }).waitFor();
    await page.getByLabel('Quiet period (minutes)').waitFor();
    expect(await page.getByLabel('Off', { exact: true }).isChecked()).toBe(true);
    expect(await page.getByLabel('Quiet period (minutes)').inputValue()).toBe('30');
    expect(errors).toEqual([]);
  });

  it("an e-mail's unsubscribe link opens a page whose button turns e-mail off, signed out", async () => {
    const patient = await server.app.createUser('patient', { name: 'Ravi Menon' });
    const link = await unsubscribeLink(
      server.app.services.store,
      server.app.clock,
      server.origin,
      patient.id,
    );
    const page = await open();
    const errors = watchErrors(page);
    await page.goto(link);
    await page.getByRole('heading', { name: 'Stop e-mail notifications?' }).waitFor();
    const api = await server.app.login(patient);
    expect((await api.get('/api/me/notifications')).json()).toMatchObject({ email: 'offline' });

    await page.getByRole('button', { name: 'Turn off e-mail notifications' }).click();
    await page.getByRole('heading', { name: 'E-mail notifications are off' }).waitFor();
    expect((await api.get('/api/me/notifications')).json()).toMatchObject({ email: 'off' });
    expect(errors).toEqual([]);
  });
});
