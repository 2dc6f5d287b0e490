import { afterEach, describe, expect, it } from 'vitest';
import { unsubscribeLink } from '../../src/domain/notifications/unsubscribe.js';
import type { TestApp } from '../support/app.js';
import {
  auditRows,
  buildAdmin,
  buildPatient,
  buildPractitioner,
  startMessagingApp,
} from '../support/factories.js';

let t: TestApp;
afterEach(async () => {
  await t.stop();
});

describe('notification preferences', () => {
  it('start as e-mail when offline after 10 minutes with push on, and a change is kept and audited', async () => {
    t = await startMessagingApp();
    const patient = await buildPatient(t);
    const first = await patient.client.get('/api/me/notifications');
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ email: 'offline', quietMinutes: 10, push: true });

    const put = await patient.client.request('PUT', '/api/me/notifications', {
      email: 'off',
      quietMinutes: 45,
      push: false,
    });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toEqual({ email: 'off', quietMinutes: 45, push: false });
    expect((await patient.client.get('/api/me/notifications')).json()).toEqual({
      email: 'off',
      quietMinutes: 45,
      push: false,
    });
    const rows = await auditRows(t, { action: 'notification.preferences_update' });
    expect(rows.map((r) => r.actor_id)).toEqual([patient.user.id]);

    // Each person has their own.
    const practitioner = await buildPractitioner(t);
    expect((await practitioner.client.get('/api/me/notifications')).json()).toEqual({
      email: 'offline',
      quietMinutes: 10,
      push: true,
    });
  });

  it('refuses bad values with a problem and changes nothing', async () => {
    t = await startMessagingApp();
    const patient = await buildPatient(t);
    for (const body of [
      { email: 'always', quietMinutes: 10, push: true },
      { email: 'offline', quietMinutes: 0, push: true },
      { email: 'offline', quietMinutes: 1441, push: true },
      { email: 'offline', quietMinutes: 2.5, push: true },
      { email: 'offline', quietMinutes: 10, push: 'yes' },
      { email: 'offline', quietMinutes: 10 },
      { email: 'offline', quietMinutes: 10, push: true, extra: 1 },
    ]) {
      const res = await patient.client.request('PUT', '/api/me/notifications', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.json<{ code: string }>().code).toBe('validation_failed');
    }
    expect((await patient.client.get('/api/me/notifications')).json()).toEqual({
      email: 'offline',
      quietMinutes: 10,
      push: true,
    });
    expect(await auditRows(t, { action: 'notification.preferences_update' })).toHaveLength(0);
  });

  it('needs a session, and admins have no messages to be told of', async () => {
    t = await startMessagingApp();
    const res = await t.app.inject({ method: 'GET', url: '/api/me/notifications' });
    expect(res.statusCode).toBe(401);
    const admin = await buildAdmin(t);
    expect((await admin.client.get('/api/me/notifications')).statusCode).toBe(200);
  });
});

describe('the unsubscribe link', () => {
  it('shows a page with a button on GET (changing nothing) and turns e-mail off on POST, without a session', async () => {
    t = await startMessagingApp();
    const patient = await buildPatient(t);
    const link = new URL(
      await unsubscribeLink(t.services.store, t.clock, t.config.publicOrigin, patient.user.id),
    );
    const path = `${link.pathname}${link.search}`;

    const page = await t.app.inject({ method: 'GET', url: path });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('<form method="post"');
    expect((await patient.client.get('/api/me/notifications')).json()).toMatchObject({
      email: 'offline',
    });

    // As a mail provider sends it (RFC 8058): no cookie, no Origin, no CSRF token.
    const post = await t.app.inject({
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'List-Unsubscribe=One-Click',
    });
    expect(post.statusCode).toBe(200);
    expect(post.body).toContain('E-mail notifications are off');
    expect((await patient.client.get('/api/me/notifications')).json()).toEqual({
      email: 'off',
      quietMinutes: 10,
      push: true,
    });
    const rows = await auditRows(t, { action: 'notification.unsubscribe' });
    expect(rows.map((r) => r.actor_id)).toEqual([patient.user.id]);
  });

  it("refuses a bad signature or someone else's user id, and changes nothing", async () => {
    t = await startMessagingApp();
    const patient = await buildPatient(t);
    const other = await buildPatient(t);
    const link = new URL(
      await unsubscribeLink(t.services.store, t.clock, t.config.publicOrigin, patient.user.id),
    );
    const sig = link.searchParams.get('s')!;
    const flipped = `${sig.slice(0, -1)}${sig.endsWith('A') ? 'B' : 'A'}`;
    for (const url of [
      `/api/notifications/unsubscribe?u=${patient.user.id}&s=${flipped}`,
      `/api/notifications/unsubscribe?u=${other.user.id}&s=${sig}`,
      `/api/notifications/unsubscribe?u=nobody&s=${sig}`,
    ]) {
      for (const method of ['GET', 'POST'] as const) {
        const res = await t.app.inject({ method, url });
        expect(res.statusCode, `${method} ${url}`).toBe(403);
        expect(res.json<{ code: string }>().code).toBe('forbidden');
      }
    }
    const malformed = await t.app.inject({
      method: 'POST',
      url: `/api/notifications/unsubscribe?u=${patient.user.id}&s=short`,
    });
    expect(malformed.statusCode).toBe(400);
    for (const p of [patient, other])
      expect((await p.client.get('/api/me/notifications')).json()).toMatchObject({
        email: 'offline',
      });
    expect(await auditRows(t, { action: 'notification.unsubscribe' })).toHaveLength(0);
  });
});
