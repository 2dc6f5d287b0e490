import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_PASSWORD, startTestApp, type TestApp, type TestClient } from '../support/app.js';

const ORIGIN = 'http://chat.example.test';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: { PUBLIC_ORIGIN: ORIGIN } });
});
afterAll(async () => {
  await t.stop();
});

async function freshClient(): Promise<TestClient> {
  return t.login(await t.createUser('patient'));
}

function logout(client: TestClient, headers: Record<string, string>) {
  return t.app.inject({
    method: 'POST',
    url: '/api/auth/logout',
    headers: { cookie: client.cookie, ...headers },
  });
}

async function stillSignedIn(client: TestClient): Promise<boolean> {
  return (await client.get('/api/auth/session')).statusCode === 200;
}

describe('CSRF protection', () => {
  it('refuses a state-changing request without the x-csrf-token header', async () => {
    const client = await freshClient();
    const res = await logout(client, { origin: ORIGIN });
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 403, code: 'csrf_invalid' });
    expect(await stillSignedIn(client)).toBe(true);
  });

  it('refuses a wrong token, including another session’s token', async () => {
    const client = await freshClient();
    const other = await freshClient();
    for (const token of ['x', client.csrfToken.slice(0, -1), other.csrfToken, '']) {
      const res = await logout(client, { origin: ORIGIN, 'x-csrf-token': token });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ code: 'csrf_invalid' });
    }
    expect(await stillSignedIn(client)).toBe(true);
  });

  it('accepts the right token from the app’s own origin', async () => {
    const client = await freshClient();
    const res = await logout(client, {
      origin: ORIGIN,
      'sec-fetch-site': 'same-origin',
      'x-csrf-token': client.csrfToken,
    });
    expect(res.statusCode).toBe(204);
    expect(await stillSignedIn(client)).toBe(false);
  });

  it('refuses a foreign Origin even with the right token', async () => {
    const client = await freshClient();
    for (const origin of ['https://evil.example', 'http://chat.example.test:8080', 'null']) {
      const res = await logout(client, { origin, 'x-csrf-token': client.csrfToken });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ code: 'origin_refused' });
    }
    expect(await stillSignedIn(client)).toBe(true);
  });

  it('refuses a request the browser marks as cross-site when it sends no Origin', async () => {
    const client = await freshClient();
    for (const site of ['cross-site', 'same-site']) {
      const res = await logout(client, {
        'sec-fetch-site': site,
        'x-csrf-token': client.csrfToken,
      });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toMatchObject({ code: 'origin_refused' });
    }
    expect(await stillSignedIn(client)).toBe(true);
  });

  it('refuses a request with neither Origin nor Sec-Fetch-Site, even with the right token', async () => {
    const client = await freshClient();
    const res = await logout(client, { 'x-csrf-token': client.csrfToken });
    expect(res.statusCode).toBe(403);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: 'origin_refused' });
    expect(await stillSignedIn(client)).toBe(true);
    // A sign-in without either makes no session either.
    const user = await t.createUser('patient');
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email: user.email, password: TEST_PASSWORD },
    });
    expect(login.statusCode).toBe(403);
    expect(login.json()).toMatchObject({ code: 'origin_refused' });
    expect(login.headers['set-cookie']).toBeUndefined();
  });

  it('accepts Sec-Fetch-Site: same-origin without an Origin', async () => {
    const client = await freshClient();
    const res = await logout(client, {
      'sec-fetch-site': 'same-origin',
      'x-csrf-token': client.csrfToken,
    });
    expect(res.statusCode).toBe(204);
    expect(await stillSignedIn(client)).toBe(false);
  });

  it('refuses a cross-site sign-in (login CSRF) and makes no session', async () => {
    const user = await t.createUser('patient');
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { origin: 'https://evil.example' },
      payload: { email: user.email, password: TEST_PASSWORD },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'origin_refused' });
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('lets GET through from anywhere because GET changes nothing', async () => {
    const client = await freshClient();
    const res = await t.app.inject({
      method: 'GET',
      url: '/api/auth/session',
      headers: { cookie: client.cookie, origin: 'https://evil.example' },
    });
    expect(res.statusCode).toBe(200);
  });
});

describe('security headers', () => {
  it('sends a strict CSP without inline script, and framing and referrer protections', async () => {
    for (const url of ['/', '/api/auth/session', '/api/nothing-here']) {
      const res = await t.app.inject({ method: 'GET', url });
      const csp = String(res.headers['content-security-policy']);
      const directives = new Map(
        csp.split(';').map((d) => {
          const [name, ...values] = d.trim().split(/\s+/);
          return [name!, values];
        }),
      );
      expect(directives.get('default-src')).toEqual(["'self'"]);
      expect(directives.get('script-src')).toEqual(["'self'"]);
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
      expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
      expect(directives.get('object-src')).toEqual(["'none'"]);
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      // Plain http: no HSTS (it would lock a browser out of a local install).
      expect(res.headers['strict-transport-security']).toBeUndefined();
    }
  });

  it('forbids caching of every API answer, errors included', async () => {
    const client = await freshClient();
    for (const res of [
      await client.get('/api/auth/session'),
      await t.app.inject({ method: 'GET', url: '/api/auth/session' }),
      await t.app.inject({ method: 'GET', url: '/api/no-such-route' }),
    ]) {
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });

  it('sends HSTS when served over https', async () => {
    const secure = await startTestApp({ env: { PUBLIC_ORIGIN: 'https://chat.example.org' } });
    try {
      const res = await secure.app.inject({ method: 'GET', url: '/api/auth/session' });
      expect(res.headers['strict-transport-security']).toMatch(/max-age=\d{7,}; includeSubDomains/);
      expect(String(res.headers['content-security-policy'])).toContain('upgrade-insecure-requests');
    } finally {
      await secure.stop();
    }
  });

  it('tags every answer with a request id that the problem body repeats', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/auth/session' });
    expect(res.statusCode).toBe(401);
    expect(res.json<{ requestId: string }>().requestId).toBe(res.headers['x-request-id']);
  });
});

describe('deny by default', () => {
  it('answers an API route without a session with 401 problem+json', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/logout',
      headers: { origin: ORIGIN },
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: 'unauthenticated', status: 401 });
  });
});

describe('oversized bodies', () => {
  it('refuses a body over the limit with 413 problem+json before reading it into a handler', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { 'content-type': 'application/json', origin: ORIGIN },
      payload: JSON.stringify({ email: 'a@example.com', password: 'x'.repeat(300 * 1024) }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ code: 'payload_too_large' });
  });
});

describe('the 404 handler', () => {
  it('answers problem+json not_found and is rate limited per address', async () => {
    const remoteAddress = '203.0.113.50';
    const first = await t.app.inject({ method: 'GET', url: '/api/does-not-exist', remoteAddress });
    expect(first.statusCode).toBe(404);
    expect(first.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(first.json()).toMatchObject({ status: 404, code: 'not_found' });

    let limited: LightMyRequestResponse | undefined;
    for (let i = 0; i < 100 && !limited; i += 1) {
      const res = await t.app.inject({ method: 'GET', url: `/api/probe-${i}`, remoteAddress });
      if (res.statusCode === 429) limited = res;
      else expect(res.statusCode).toBe(404);
    }
    if (!limited) throw new Error('no 429 after 100 unknown URLs');
    expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(limited.json()).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);

    // Another address is not affected, and known routes keep working for this one.
    const other = await t.app.inject({
      method: 'GET',
      url: '/api/does-not-exist',
      remoteAddress: '203.0.113.51',
    });
    expect(other.statusCode).toBe(404);
    const known = await t.app.inject({ method: 'GET', url: '/healthz', remoteAddress });
    expect(known.statusCode).toBe(200);
  });
});
