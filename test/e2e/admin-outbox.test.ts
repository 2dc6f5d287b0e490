import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TEST_PASSWORD } from '../support/app.js';
import { signIn, useBrowser, watchErrors } from './browser.js';
import { buildPractice } from './fixtures.js';

describe('the admin and the outbox', () => {
  const { server, open } = useBrowser();

  it('shows a dead delivery with its error, and Retry puts it through', async () => {
    const practice = await buildPractice(server.app, {
      patient: 'Hana Ito',
      practitioner: 'Omar Said',
    });
    await practice.patientApi.post(`/api/rooms/${practice.roomId}/messages`, {
      clientId: randomUUID(),
      body: 'A question about my prescription',
    });
    // Signing out is an event Web Push takes (the device's subscription goes with it).
    await practice.patientApi.post('/api/auth/logout', {});
    const db = server.app.services.store.db;
    const delivery = await db
      .selectFrom('event_deliveries as d')
      .innerJoin('events as e', 'e.id', 'd.event_id')
      .select('d.id')
      .where('d.processor', '=', 'web-push')
      .where('e.type', '=', 'session.ended')
      .orderBy('d.id', 'desc')
      .executeTakeFirstOrThrow();
    // As the dispatcher leaves a delivery that ran out of attempts.
    await db
      .updateTable('event_deliveries')
      .set({ state: 'dead', attempts: 10, last_error: 'Error: the push service timed out' })
      .where('id', '=', delivery.id)
      .execute();

    const admin = await server.app.createUser('admin', { name: 'Sam Admin' });
    const page = await open();
    const errors = watchErrors(page);
    await signIn(page, admin.email, TEST_PASSWORD);
    await page.getByRole('link', { name: 'Outbox' }).click();
    await page.getByRole('heading', { name: 'Outbox', level: 1 }).waitFor();
    const row = page.getByRole('row').filter({ hasText: 'session.ended' });
    await row.getByText('Error: the push service timed out').waitFor();
    expect(await page.getByText('A question about my prescription').count()).toBe(0);

    await row.getByRole('button', { name: 'Retry' }).click();
    await page.getByText('Nothing has failed for good.').waitFor();
    await expect
      .poll(
        async () =>
          (
            await db
              .selectFrom('event_deliveries')
              .select('state')
              .where('id', '=', delivery.id)
              .executeTakeFirstOrThrow()
          ).state,
        { timeout: 10_000 },
      )
      .toBe('done');
    expect(errors).toEqual([]);
  });
});
