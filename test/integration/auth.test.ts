import { afterEach, describe, expect, it } from 'vitest';
import type { LightMyRequestResponse } from 'fastify';
import { ManualClock } from '../../src/domain/clock.js';
import { systemCtx } from '../../src/domain/context.js';
import { hashToken } from '../../src/domain/auth.js';
import { TEST_PASSWORD, startTestApp, type TestApp } from '../support/app.js';
import { detailOf } from '../support/factories.js';

const MINUTE = 60_000;

let t: TestApp | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

async function start(env: Record<string, string> = {}): Promise<TestApp & { clock: ManualClock }> {
  const clock = new ManualClock();
  t = await startTestApp({ env, clock });
  return Object.assign(t, { clock });
}

function login(app: TestApp, email: string, password: string, remoteAddress = '127.0.0.1') {
  return app.app.inject({
    method: 'POST',
    url: '/api/auth/login',
    headers: { origin: app.config.publicOrigin },
    payload: { email, password },
    remoteAddress,
  });
}

function sessionCookie(res: LightMyRequestResponse) {
  return res.cookies.find((c) => c.name.endsWith('carechat_session'));
}

function session(app: TestApp, cookie: string) {
  return app.app.inject({ method: 'GET', url: '/api/auth/session', headers: { cookie } });
}

async function auditActions(app: TestApp, action: string) {
  return app.services.store.audit.list({ action, limit: 1000 });
}

async function countRows(app: TestApp, table: 'sessions' | 'audit_events') {
  const row = await app.services.store.db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('login', () => {
  it('signs in with the right password and returns the user, a CSRF token and a session cookie', async () => {
    const app = await start();
    const user = await app.createUser('patient', { email: 'Pat.Smith@Example.com' });
    // Email is matched case-insensitively.
    const res = await login(app, 'pat.smith@example.COM', TEST_PASSWORD);
    expect(res.statusCode).toBe(200);
    const body = res.json<{
      user: { id: string; email: string; role: string };
      csrfToken: string;
    }>();
    expect(body.user).toMatchObject({
      id: user.id,
      role: 'patient',
      email: 'Pat.Smith@Example.com',
    });
    expect(body.user).not.toHaveProperty('passwordHash');
    expect(JSON.stringify(body)).not.toContain('scrypt$');
    expect(body.csrfToken.length).toBeGreaterThanOrEqual(40);
    const cookie = sessionCookie(res);
    expect(cookie?.value).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // The session answers with the same user and token.
    const s = await session(app, `${cookie!.name}=${cookie!.value}`);
    expect(s.statusCode).toBe(200);
    expect(s.json()).toMatchObject({ user: { id: user.id }, csrfToken: body.csrfToken });

    // Only the token's hash is stored.
    const stored = await app.services.store.db.selectFrom('sessions').selectAll().execute();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.id_hash).toBe(hashToken(cookie!.value));
    expect(stored[0]!.id_hash).not.toContain(cookie!.value);
  });

  it('gives a new session token at every login', async () => {
    const app = await start();
    const user = await app.createUser('practitioner');
    const a = sessionCookie(await login(app, user.email, TEST_PASSWORD));
    const b = sessionCookie(await login(app, user.email, TEST_PASSWORD));
    expect(a?.value).toBeTruthy();
    expect(a?.value).not.toBe(b?.value);
  });

  it('signing in again from a browser that holds a session replaces that session', async () => {
    const app = await start();
    const user = await app.createUser('patient');
    const old = await app.login(user);
    // No CSRF token: the browser may have lost it with the page; the session is replaced.
    const res = await app.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { cookie: old.cookie, origin: app.config.publicOrigin },
      payload: { email: user.email, password: TEST_PASSWORD },
    });
    expect(res.statusCode).toBe(200);
    const fresh = sessionCookie(res)!;
    expect(`${fresh.name}=${fresh.value}`).not.toBe(old.cookie);
    expect((await session(app, old.cookie)).statusCode).toBe(401);
    expect((await session(app, `${fresh.name}=${fresh.value}`)).statusCode).toBe(200);
    expect(await countRows(app, 'sessions')).toBe(1);
  });

  it.each([
    ['a wrong password', 'known', 'wrong password here'],
    ['an unknown email', 'nobody@example.com', TEST_PASSWORD],
  ])('refuses %s with the same problem', async (_label, who, password) => {
    const app = await start();
    const user = await app.createUser('patient');
    const res = await login(app, who === 'known' ? user.email : who, password);
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = res.json<Record<string, unknown>>();
    expect(problem).toMatchObject({
      status: 401,
      code: 'invalid_credentials',
      title: 'The email or password is not right',
    });
    expect(typeof problem.requestId).toBe('string');
    expect(problem.requestId).toBe(res.headers['x-request-id']);
    expect(sessionCookie(res)).toBeUndefined();
    expect(await countRows(app, 'sessions')).toBe(0);
  });

  it('refuses a disabled account even with the right password', async () => {
    const app = await start();
    const user = await app.createUser('patient');
    await app.services.accounts.update(systemCtx(), user.id, { disabled: true });
    const res = await login(app, user.email, TEST_PASSWORD);
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'invalid_credentials' });
  });

  it('answers a body without email or password with validation_failed', async () => {
    const app = await start();
    const res = await app.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { origin: app.config.publicOrigin },
      payload: { email: 'a@example.com' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'validation_failed' });
  });
});

describe('login throttling', () => {
  it('blocks an account after LOGIN_MAX_PER_ACCOUNT failures with 429 and Retry-After, even with the right password', async () => {
    const app = await start({ LOGIN_MAX_PER_ACCOUNT: '3', LOGIN_WINDOW_MINUTES: '10' });
    const user = await app.createUser('patient');
    for (let i = 0; i < 3; i += 1) {
      // Different addresses: the account limit holds whichever address the attempts come from.
      const res = await login(app, user.email, 'wrong password here', `10.0.0.${i + 1}`);
      expect(res.statusCode).toBe(401);
    }
    const blocked = await login(app, user.email, TEST_PASSWORD, '10.0.0.9');
    expect(blocked.statusCode).toBe(429);
    expect(blocked.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(blocked.json()).toMatchObject({ code: 'rate_limited', status: 429 });
    const retryAfter = Number(blocked.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(600);
    expect(sessionCookie(blocked)).toBeUndefined();
    expect(await auditActions(app, 'auth.login_throttled')).toHaveLength(1);

    // Another account is not affected.
    const other = await app.createUser('patient');
    expect((await login(app, other.email, TEST_PASSWORD, '10.0.0.9')).statusCode).toBe(200);

    // When the window has passed, the right password works again.
    app.clock.advance(10 * MINUTE + 1000);
    expect((await login(app, user.email, TEST_PASSWORD, '10.0.0.9')).statusCode).toBe(200);
  });

  it('a successful login resets the account counter', async () => {
    const app = await start({ LOGIN_MAX_PER_ACCOUNT: '3' });
    const user = await app.createUser('patient');
    await login(app, user.email, 'wrong password here');
    await login(app, user.email, 'wrong password here');
    expect((await login(app, user.email, TEST_PASSWORD)).statusCode).toBe(200);
    await login(app, user.email, 'wrong password here');
    await login(app, user.email, 'wrong password here');
    expect((await login(app, user.email, TEST_PASSWORD)).statusCode).toBe(200);
  });

  it('does not count correct sign-ins against a shared office address', async () => {
    const app = await start({ LOGIN_MAX_PER_IP: '3' });
    for (let i = 0; i < 6; i += 1) {
      const colleague = await app.createUser('practitioner');
      expect((await login(app, colleague.email, TEST_PASSWORD, '192.0.2.99')).statusCode).toBe(200);
    }
  });

  it('throttles failures from an address after LOGIN_MAX_PER_IP, but never a correct password', async () => {
    const app = await start({
      LOGIN_MAX_PER_IP: '4',
      LOGIN_MAX_PER_ACCOUNT: '100',
      LOGIN_WINDOW_MINUTES: '15',
    });
    const user = await app.createUser('patient');
    const colleague = await app.createUser('practitioner');
    for (let i = 0; i < 4; i += 1) {
      const res = await login(app, `guess${i}@example.com`, 'wrong password here', '192.0.2.7');
      expect(res.statusCode).toBe(401);
    }
    // Past the limit, every further failure from that address is refused with 429,
    // unknown accounts and wrong passwords of real ones alike.
    for (const email of ['guess9@example.com', user.email]) {
      const blocked = await login(app, email, 'wrong password here', '192.0.2.7');
      expect(blocked.statusCode).toBe(429);
      expect(blocked.json()).toMatchObject({ code: 'rate_limited' });
      const retryAfter = Number(blocked.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(15 * 60);
      expect(sessionCookie(blocked)).toBeUndefined();
    }
    // The office behind that address is not locked out: correct passwords sign in.
    for (const person of [user, colleague]) {
      const ok = await login(app, person.email, TEST_PASSWORD, '192.0.2.7');
      expect(ok.statusCode).toBe(200);
      expect(sessionCookie(ok)).toBeDefined();
    }
    // Still throttled for failures until the window ends; another address never was.
    expect((await login(app, user.email, 'wrong again', '192.0.2.7')).statusCode).toBe(429);
    expect((await login(app, user.email, 'wrong again', '192.0.2.8')).statusCode).toBe(401);
    app.clock.advance(15 * MINUTE + 1000);
    expect((await login(app, user.email, 'wrong again', '192.0.2.7')).statusCode).toBe(401);
    // Each throttled failure is in the audit trail as a failure, marked with the limit.
    const failed = await auditActions(app, 'auth.login_failed');
    expect(failed.filter((r) => detailOf(r).limit === 'address')).toHaveLength(3);
  });

  it('holds the account limit when wrong passwords arrive all at once', async () => {
    const app = await start({ LOGIN_MAX_PER_ACCOUNT: '3', LOGIN_MAX_PER_IP: '1000' });
    const user = await app.createUser('patient');
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        login(app, user.email, `wrong password ${i}`, `10.1.0.${i + 1}`),
      ),
    );
    const statuses = results.map((r) => r.statusCode).sort();
    // Exactly three attempts were checked against the password; the rest were refused unread.
    expect(statuses.filter((s) => s === 401)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(9);
    expect(await auditActions(app, 'auth.login_failed')).toHaveLength(3);
  });
});

/** The activity mark of the app's one session, as stored. */
async function lastSeen(app: TestApp): Promise<number> {
  const row = await app.services.store.db
    .selectFrom('sessions')
    .select('last_seen_at')
    .executeTakeFirstOrThrow();
  return row.last_seen_at;
}

describe('session expiry', () => {
  it('ends a session after SESSION_IDLE_MINUTES without requests, and activity keeps it alive', async () => {
    const app = await start({ SESSION_IDLE_MINUTES: '15' });
    const user = await app.createUser('patient');
    const client = await app.login(user);
    for (let i = 0; i < 4; i += 1) {
      app.clock.advance(14 * MINUTE);
      expect((await session(app, client.cookie)).statusCode).toBe(200);
    }
    app.clock.advance(15 * MINUTE + 1000);
    const expired = await session(app, client.cookie);
    expect(expired.statusCode).toBe(401);
    expect(expired.json()).toMatchObject({ code: 'unauthenticated' });
    // The browser is told to forget the dead cookie.
    const cleared = sessionCookie(expired);
    expect(cleared?.value).toBe('');
    expect(await countRows(app, 'sessions')).toBe(0);
    expect(await auditActions(app, 'auth.session_expired')).toHaveLength(1);

    // Going back in time does not revive it: the row is gone.
    app.clock.advance(-20 * MINUTE);
    expect((await session(app, client.cookie)).statusCode).toBe(401);
  });

  it('writes activity about once a twentieth of the idle period, and a short idle period still keeps an active user in', async () => {
    const app = await start({ SESSION_IDLE_MINUTES: '1' });
    const user = await app.createUser('patient');
    const client = await app.login(user);
    const seen = () => lastSeen(app);
    const signedIn = await seen();
    // Within 3 s (a twentieth of the minute) nothing is written.
    app.clock.advance(2_000);
    expect((await session(app, client.cookie)).statusCode).toBe(200);
    expect(await seen()).toBe(signedIn);
    // A request every 50 s keeps a one-minute session alive: each one is written.
    for (let i = 0; i < 4; i += 1) {
      app.clock.advance(50_000);
      expect((await session(app, client.cookie)).statusCode).toBe(200);
      expect(await seen()).toBe(app.clock.now());
    }
    app.clock.advance(61_000);
    expect((await session(app, client.cookie)).statusCode).toBe(401);
  });

  it('writes the default 15-minute session activity at most every 45 s, not on each request', async () => {
    const app = await start();
    const user = await app.createUser('patient');
    const client = await app.login(user);
    const seen = () => lastSeen(app);
    const signedIn = await seen();
    app.clock.advance(30_000);
    expect((await session(app, client.cookie)).statusCode).toBe(200);
    expect(await seen()).toBe(signedIn);
    app.clock.advance(16_000);
    expect((await session(app, client.cookie)).statusCode).toBe(200);
    expect(await seen()).toBe(app.clock.now());
  });

  it('ends a session SESSION_ABSOLUTE_MINUTES after login however active it is', async () => {
    const app = await start({ SESSION_IDLE_MINUTES: '15', SESSION_ABSOLUTE_MINUTES: '60' });
    const user = await app.createUser('practitioner');
    const client = await app.login(user);
    for (let i = 0; i < 6; i += 1) {
      app.clock.advance(10 * MINUTE);
      expect((await client.get('/api/auth/session')).statusCode).toBe(200);
    }
    app.clock.advance(MINUTE);
    expect((await client.get('/api/auth/session')).statusCode).toBe(401);
  });
});

describe('logout', () => {
  it('ends the session server-side, clears the cookie and sends Clear-Site-Data', async () => {
    const app = await start();
    const user = await app.createUser('patient');
    const client = await app.login(user);
    const res = await client.post('/api/auth/logout');
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(res.headers['clear-site-data']).toContain('"cookies"');
    const cleared = sessionCookie(res);
    expect(cleared?.value).toBe('');
    expect(cleared?.expires?.getTime() ?? 0).toBeLessThan(Date.now());
    expect(await countRows(app, 'sessions')).toBe(0);

    // A copy of the old cookie is worthless now.
    expect((await session(app, client.cookie)).statusCode).toBe(401);
    expect((await client.post('/api/auth/logout')).statusCode).toBe(401);
  });

  it('ends only the session that logs out', async () => {
    const app = await start();
    const user = await app.createUser('patient');
    const phone = await app.login(user);
    const laptop = await app.login(user);
    expect((await phone.post('/api/auth/logout')).statusCode).toBe(204);
    expect((await laptop.get('/api/auth/session')).statusCode).toBe(200);
  });
});

describe('session cookie', () => {
  it('is HttpOnly, SameSite=Lax, Path=/ and not Secure on plain http', async () => {
    const app = await start();
    const user = await app.createUser('patient');
    const res = await login(app, user.email, TEST_PASSWORD);
    const raw = String(res.headers['set-cookie']);
    expect(raw).toMatch(/^carechat_session=/);
    expect(raw).toMatch(/; HttpOnly/i);
    expect(raw).toMatch(/; SameSite=Lax/i);
    expect(raw).toMatch(/; Path=\//);
    expect(raw).not.toMatch(/; Secure/i);
    expect(res.headers['strict-transport-security']).toBeUndefined();
  });

  it('is Secure with a __Host- name when served over https, with HSTS', async () => {
    const app = await start({ PUBLIC_ORIGIN: 'https://chat.example.org' });
    const user = await app.createUser('patient');
    const res = await login(app, user.email, TEST_PASSWORD);
    expect(res.statusCode).toBe(200);
    const raw = String(res.headers['set-cookie']);
    expect(raw).toMatch(/^__Host-carechat_session=/);
    expect(raw).toMatch(/; Secure/i);
    expect(raw).toMatch(/; HttpOnly/i);
    expect(raw).toMatch(/; Path=\//);
    expect(raw).not.toMatch(/; Domain=/i);
    expect(res.headers['strict-transport-security']).toMatch(/max-age=\d{7,}/);

    // The __Host- cookie is the one that authenticates; the plain name is ignored.
    const cookie = sessionCookie(res)!;
    expect((await session(app, `__Host-carechat_session=${cookie.value}`)).statusCode).toBe(200);
    expect((await session(app, `carechat_session=${cookie.value}`)).statusCode).toBe(401);
  });
});

describe('audit trail of sign-ins', () => {
  it('records login success, failure and logout with who and from where, never the password', async () => {
    const app = await start();
    const user = await app.createUser('practitioner');
    await login(app, user.email, 'wrong password here', '198.51.100.4');
    await login(app, 'stranger@example.com', 'wrong password here', '198.51.100.5');
    const client = await app.login(user);
    await client.post('/api/auth/logout');

    const failed = await auditActions(app, 'auth.login_failed');
    expect(failed).toHaveLength(2);
    const reasonOf = (detail: string | null) =>
      (JSON.parse(detail ?? '{}') as { reason?: string }).reason;
    expect(failed.map((r) => [r.target_id, r.ip, reasonOf(r.detail)])).toEqual([
      [null, '198.51.100.5', 'unknown_email'],
      [user.id, '198.51.100.4', 'wrong_password'],
    ]);
    const ok = await auditActions(app, 'auth.login');
    expect(ok).toHaveLength(1);
    expect(ok[0]).toMatchObject({ actor_id: user.id, actor_role: 'practitioner', ip: '127.0.0.1' });
    const out = await auditActions(app, 'auth.logout');
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ actor_id: user.id });
    expect(typeof out[0]!.at).toBe('number');

    const all = await app.services.store.audit.list({ limit: 1000 });
    const text = JSON.stringify(all);
    expect(text).not.toContain('wrong password here');
    expect(text).not.toContain(TEST_PASSWORD);
    expect(text).not.toContain(client.cookie.split('=')[1]!);
  });
});

describe('disabling an account', () => {
  it('ends every session of that account', async () => {
    const app = await start();
    const user = await app.createUser('patient');
    const a = await app.login(user);
    const b = await app.login(user);
    const bystander = await app.login(await app.createUser('patient'));
    await app.services.accounts.update(systemCtx(), user.id, { disabled: true });
    expect((await a.get('/api/auth/session')).statusCode).toBe(401);
    expect((await b.get('/api/auth/session')).statusCode).toBe(401);
    expect((await bystander.get('/api/auth/session')).statusCode).toBe(200);
  });
});

describe('malformed input', () => {
  it('answers broken JSON with problem+json 400, changes nothing and records only the refusal', async () => {
    const app = await start();
    const user = await app.createUser('patient');
    const client = await app.login(user);
    const before = [await countRows(app, 'sessions'), await countRows(app, 'audit_events')];
    const newest = (await app.services.store.audit.head())!.id;
    for (const url of ['/api/auth/login', '/api/auth/logout']) {
      const res = await app.app.inject({
        method: 'POST',
        url,
        headers: {
          cookie: client.cookie,
          'x-csrf-token': client.csrfToken,
          'content-type': 'application/json',
          origin: app.config.publicOrigin,
        },
        payload: '{"email": "x@example.com", "password": ',
      });
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ status: 400, code: 'validation_failed' });
    }
    // Two refusals, each an access.denied row saying what was asked, never what was sent.
    expect([await countRows(app, 'sessions'), await countRows(app, 'audit_events')]).toEqual([
      before[0],
      before[1]! + 2,
    ]);
    const added = (await app.services.store.audit.chainPage(newest, 10)).map((r) => ({
      action: r.action,
      route: (JSON.parse(r.detail!) as { route: string }).route,
      sent: r.detail!.includes('x@example.com'),
    }));
    expect(added).toEqual([
      { action: 'access.denied', route: '/api/auth/login', sent: false },
      { action: 'access.denied', route: '/api/auth/logout', sent: false },
    ]);
    // The session survived the broken logout.
    expect((await client.get('/api/auth/session')).statusCode).toBe(200);
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded'])(
    'refuses a %s body (what a cross-site form can send) with 415',
    async (type) => {
      const app = await start();
      const user = await app.createUser('patient');
      const res = await app.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        headers: { 'content-type': type, origin: app.config.publicOrigin },
        payload: JSON.stringify({ email: user.email, password: TEST_PASSWORD }),
      });
      expect(res.statusCode).toBe(415);
      expect(res.json()).toMatchObject({ code: 'unsupported_media_type' });
      expect(await countRows(app, 'sessions')).toBe(0);
    },
  );
});
