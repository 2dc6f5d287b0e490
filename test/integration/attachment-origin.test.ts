import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, createLogger } from '../../src/server/app.js';
import { loadConfig, ConfigError } from '../../src/server/config.js';
import type { AttachmentWire } from '../../src/shared/wire.js';
import { createTestStore, type TestApp, type TestClient } from '../support/app.js';
import { photo, sendWith, upload } from '../support/attachments.js';
import {
  auditRows,
  buildAcceptedAppointment,
  buildPatient,
  manualClock,
  startMessagingApp,
  type AcceptedAppointment,
} from '../support/factories.js';

const FILES = 'http://files.practice.test';
const FILES_HOST = 'files.practice.test';

/** A request as it arrives on the files origin: its Host, no cookie. */
const onFilesHost = (t: TestApp, location: string, headers: Record<string, string> = {}) => {
  const url = new URL(location);
  return t.app.inject({
    method: 'GET',
    url: `${url.pathname}${url.search}`,
    headers: { host: url.host, ...headers },
  });
};

/** The one-time link the app origin redirects to. */
async function linkFor(client: TestClient, path: string): Promise<string> {
  const res = await client.get(path);
  expect(res.statusCode, res.body).toBe(302);
  expect(res.headers['cache-control']).toContain('no-store');
  return String(res.headers.location);
}

describe('ATTACHMENT_ORIGIN', () => {
  let t: TestApp;
  let chat: AcceptedAppointment;
  let a: AttachmentWire;
  let original: Buffer;
  beforeAll(async () => {
    t = await startMessagingApp({ env: { ATTACHMENT_ORIGIN: FILES } });
    chat = await buildAcceptedAppointment(t);
    original = await photo({ width: 40, height: 30 });
    a = (
      await upload(t, chat.patientClient, chat.roomId, 'rash.jpg', 'image/jpeg', original)
    ).json<AttachmentWire>();
    await sendWith(chat.patientClient, chat.roomId, [a.id]);
  });
  afterAll(() => t.stop());

  it('the app origin answers with a one-time link on the files origin, which serves the file there', async () => {
    const location = await linkFor(chat.practitionerClient, a.url);
    expect(location).toMatch(
      new RegExp(`^${FILES}/api/attachments/${a.id}\\?access=[A-Za-z0-9_-]{43}$`),
    );
    const got = await onFilesHost(t, location, { origin: t.config.publicOrigin });
    expect(got.statusCode, got.body).toBe(200);
    expect(got.headers['content-type']).toBe('image/jpeg');
    expect(got.headers['content-security-policy']).toBe("sandbox; default-src 'none'");
    expect(got.headers['x-content-type-options']).toBe('nosniff');
    expect(got.headers['cache-control']).toBe('private, no-store');
    // The app (a sibling origin) may draw it and fetch it; no other site is named.
    expect(got.headers['cross-origin-resource-policy']).toBe('same-site');
    expect(got.headers['access-control-allow-origin']).toBe(t.config.publicOrigin);
    expect(got.headers['referrer-policy']).toBe('no-referrer');
    expect(got.headers['set-cookie']).toBeUndefined();
    expect(got.rawPayload.length).toBeGreaterThan(100);

    // The read is audited as the practitioner the link was issued to.
    const reads = await auditRows(t, { action: 'attachment.read', targetId: a.id });
    expect(reads.some((r) => r.actor_id === chat.practitioner.user.id)).toBe(true);

    // Once: the same link again finds nothing.
    expect((await onFilesHost(t, location)).statusCode).toBe(404);

    const thumb = await linkFor(chat.patientClient, a.thumbnailUrl!);
    expect(thumb).toContain(`/api/attachments/${a.id}/thumbnail?access=`);
    const th = await onFilesHost(t, thumb);
    expect(th.statusCode).toBe(200);
    expect(th.headers['content-type']).toBe('image/webp');
  });

  it('a link opens only its own file and part, only within five minutes', async () => {
    const other = (
      await upload(t, chat.patientClient, chat.roomId, 'b.jpg', 'image/jpeg', await photo())
    ).json<AttachmentWire>();
    await sendWith(chat.patientClient, chat.roomId, [other.id]);

    const forA = new URL(await linkFor(chat.practitionerClient, a.url));
    const swapped = `${FILES}/api/attachments/${other.id}${forA.search}`;
    expect((await onFilesHost(t, swapped)).statusCode).toBe(404);

    const file = new URL(await linkFor(chat.practitionerClient, a.url));
    const asThumb = `${FILES}/api/attachments/${a.id}/thumbnail${file.search}`;
    expect((await onFilesHost(t, asThumb)).statusCode).toBe(404);

    const late = await linkFor(chat.practitionerClient, a.url);
    manualClock(t).advance(5 * 60_000 + 1);
    expect((await onFilesHost(t, late)).statusCode).toBe(404);

    // A made-up token, a missing one, a malformed one: nothing, and nothing changes.
    const made = `${FILES}/api/attachments/${a.id}?access=${'A'.repeat(43)}`;
    expect((await onFilesHost(t, made)).statusCode).toBe(404);
    expect((await onFilesHost(t, `${FILES}/api/attachments/${a.id}`)).statusCode).toBe(400);
    expect((await onFilesHost(t, `${FILES}/api/attachments/${a.id}?access=x`)).statusCode).toBe(
      400,
    );
  });

  it('no link for a stranger, or for the other participant before the upload is sent', async () => {
    const stranger = await buildPatient(t);
    const refused = await stranger.client.get(a.url);
    expect(refused.statusCode).toBe(404);
    expect(refused.headers.location).toBeUndefined();

    const draft = (
      await upload(t, chat.patientClient, chat.roomId, 'draft.jpg', 'image/jpeg', await photo())
    ).json<AttachmentWire>();
    expect((await chat.practitionerClient.get(draft.url)).statusCode).toBe(404);
    const own = await linkFor(chat.patientClient, draft.url);
    expect((await onFilesHost(t, own)).statusCode).toBe(200);
  });

  it('the files origin serves files and nothing else, even with a session cookie', async () => {
    for (const path of [
      '/',
      '/login',
      '/api/auth/session',
      '/api/rooms',
      '/healthz',
      '/api/docs',
    ]) {
      const res = await t.app.inject({
        method: 'GET',
        url: path,
        headers: { host: FILES_HOST, cookie: chat.patientClient.cookie },
      });
      expect(res.statusCode, path).toBe(404);
    }
    const upload = await t.app.inject({
      method: 'POST',
      url: `/api/rooms/${chat.roomId}/messages`,
      headers: {
        host: FILES_HOST,
        cookie: chat.patientClient.cookie,
        'x-csrf-token': chat.patientClient.csrfToken,
        origin: FILES,
      },
      payload: { clientId: crypto.randomUUID(), body: 'hello' },
    });
    expect(upload.statusCode).toBe(404);
  });

  it('the app page lets images and fetches follow the redirect to the files origin, and nowhere else', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/auth/session' });
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain(`img-src 'self' data: blob: ${FILES}`);
    expect(csp).toContain(`connect-src 'self' ${FILES}`);
    expect(csp).toContain("script-src 'self';");
  });
});

describe('ATTACHMENT_ORIGIN settings and logs', () => {
  it('must be an origin other than the app’s', () => {
    const base = { DATABASE_URL: 'sqlite::memory:', PUBLIC_ORIGIN: 'https://chat.example' };
    expect(() => loadConfig({ ...base, ATTACHMENT_ORIGIN: 'https://chat.example' })).toThrow(
      ConfigError,
    );
    expect(() => loadConfig({ ...base, ATTACHMENT_ORIGIN: 'https://files.example/x' })).toThrow(
      /ATTACHMENT_ORIGIN must be an origin/,
    );
    expect(() => loadConfig({ ...base, ATTACHMENT_ORIGIN: 'ftp://files.example' })).toThrow(
      /ATTACHMENT_ORIGIN/,
    );
    expect(
      loadConfig({ ...base, ATTACHMENT_ORIGIN: 'https://files.example/' }).attachments.origin,
    ).toBe('https://files.example');
    expect(loadConfig(base).attachments.origin).toBeUndefined();
  });

  it('never writes a link token into the request log', async () => {
    const store = await createTestStore();
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const config = loadConfig({
      DATABASE_URL: store.url,
      DEMO: 'false',
      PORT: '0',
      LOG_LEVEL: 'debug',
      ATTACHMENT_ORIGIN: FILES,
    });
    const built = await buildApp({
      config,
      logger: createLogger(config, { pretty: false, destination: sink }),
    });
    try {
      const token = 'Zq9'.repeat(14) + 'Z';
      const res = await built.app.inject({
        method: 'GET',
        url: `/api/attachments/${crypto.randomUUID()}?access=${token}`,
        headers: { host: FILES_HOST },
      });
      expect(res.statusCode).toBe(404);
      const log = lines.join('');
      expect(log).toContain('/api/attachments/');
      expect(log).not.toContain(token);
      expect(log).not.toContain('access=');
    } finally {
      await built.close();
      await store.drop();
    }
  });
});
