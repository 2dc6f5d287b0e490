import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { AdminUserWire, AuditEventWire, AuditPageWire } from '../../src/shared/wire.js';
import { TEST_PASSWORD, startTestApp, type TestApp, type TestClient } from '../support/app.js';

const clock = new ManualClock(Date.UTC(2030, 2, 4, 9, 0, 0));
let t: TestApp;
let admin: TestClient;
let adminId: string;

beforeAll(async () => {
  t = await startTestApp({ clock });
  const row = await t.createUser('admin', { name: 'Ada Admin' });
  adminId = row.id;
  admin = await t.login(row);
});
afterAll(async () => {
  await t.stop();
});

const NEW_PASSWORD = 'a brand new password';

async function auditOf(action: string, targetId?: string): Promise<AuditEventWire[]> {
  const q = new URLSearchParams({ action, limit: '200', ...(targetId ? { targetId } : {}) });
  const res = await admin.get(`/api/admin/audit?${q.toString()}`);
  expect(res.statusCode).toBe(200);
  return res.json<AuditPageWire>().events;
}

async function userCount(): Promise<number> {
  return t.services.store.users.count();
}

describe('the admin area is invisible to everyone else', () => {
  const routes: [string, 'GET' | 'POST' | 'PATCH', unknown?][] = [
    ['/api/admin/users', 'GET'],
    ['/api/admin/users?role=patient', 'GET'],
    [
      '/api/admin/users',
      'POST',
      { role: 'admin', email: 'x@example.com', name: 'X', password: 'p' },
    ],
    ['/api/admin/users/ID', 'PATCH', { disabled: true }],
    ['/api/admin/users/ID/password', 'POST', { password: NEW_PASSWORD }],
    ['/api/admin/audit', 'GET'],
    ['/api/admin/audit?limit=9999', 'GET'],
    ['/api/admin/audit.csv', 'GET'],
  ];

  it.each(['patient', 'practitioner'] as const)(
    'a %s gets 404 not_found on every admin route, the same answer as a route that does not exist',
    async (role) => {
      const victim = await t.createUser('patient');
      const caller = await t.login(await t.createUser(role));
      const unknown = await caller.get('/api/admin/nothing-here');
      expect(unknown.statusCode).toBe(404);
      const before = await userCount();
      for (const [url, method, body] of routes) {
        const path = url.replace('ID', victim.id);
        const res =
          method === 'GET' ? await caller.get(path) : await caller.request(method, path, body);
        expect(res.statusCode, `${method} ${path}`).toBe(404);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        const { requestId: _a, ...problem } = res.json<Record<string, unknown>>();
        const { requestId: _b, ...expected } = unknown.json<Record<string, unknown>>();
        expect(problem).toEqual(expected);
      }
      expect(await userCount()).toBe(before);
      // The victim was neither disabled nor given a new password.
      await t.login(victim);
    },
  );

  it('a patient gets 404 on /api/admin/users', async () => {
    const patient = await t.login(await t.createUser('patient'));
    const res = await patient.get('/api/admin/users');
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'not_found' });
    expect(res.body).not.toContain('@example.com');
  });

  it('is rate limited for non-admins like any unknown route', async () => {
    const caller = await t.login(await t.createUser('practitioner'));
    const statuses: number[] = [];
    for (let i = 0; i < 100 && !statuses.includes(429); i += 1) {
      const res = await t.app.inject({
        method: 'GET',
        url: `/api/admin/users?q=${i}`,
        headers: { cookie: caller.cookie },
        // An address of its own, so other tests keep their budget.
        remoteAddress: '203.0.113.77',
      });
      statuses.push(res.statusCode);
    }
    expect(statuses).toContain(429);
    expect(new Set(statuses)).toEqual(new Set([404, 429]));
    // The admin's own requests are not limited by this.
    expect((await admin.get('/api/admin/users')).statusCode).toBe(200);
  });

  it('asks for a session first', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/admin/users' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'unauthenticated' });
  });
});

describe('accounts', () => {
  it('lists users by name and filters by role and by a piece of name or email', async () => {
    const p = await t.createUser('practitioner', {
      name: 'Zelda Quillfeather',
      email: 'zq@clinic.example.com',
    });
    await t.createUser('patient', { name: 'Quentin Zoller' });

    const all = (await admin.get('/api/admin/users')).json<AdminUserWire[]>();
    const names = all.map((u) => u.name);
    expect(names).toEqual([...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(all.every((u) => !('passwordHash' in u) && !JSON.stringify(u).includes('scrypt$')));

    const practitioners = (await admin.get('/api/admin/users?role=practitioner')).json<
      AdminUserWire[]
    >();
    expect(practitioners.length).toBeGreaterThan(0);
    expect(practitioners.every((u) => u.role === 'practitioner')).toBe(true);

    const byName = (await admin.get('/api/admin/users?q=QUILLF')).json<AdminUserWire[]>();
    expect(byName.map((u) => u.id)).toEqual([p.id]);
    expect(byName[0]).toMatchObject({
      email: 'zq@clinic.example.com',
      specialty: 'General Practice',
      disabled: false,
      disabledAt: null,
    });
    const byEmail = (await admin.get('/api/admin/users?q=clinic.example')).json<AdminUserWire[]>();
    expect(byEmail.map((u) => u.id)).toEqual([p.id]);
    // LIKE wildcards are literal.
    expect((await admin.get('/api/admin/users?q=%25')).json<AdminUserWire[]>()).toEqual([]);

    expect((await admin.get('/api/admin/users?role=nurse')).statusCode).toBe(400);
  });

  it.each([
    ['patient', { dateOfBirth: '1990-05-01' }],
    [
      'practitioner',
      {
        specialty: 'Pediatrics',
        workingHours: [{ day: 1, start: '09:00', end: '17:00' }],
        outOfOffice: 'Back on Monday',
      },
    ],
    ['admin', {}],
  ] as const)('creates a %s who can then sign in, and audits it', async (role, extra) => {
    const email = `new.${role}.${Date.now()}@Example.com`;
    const res = await admin.post('/api/admin/users', {
      role,
      email,
      name: `  New ${role}  `,
      password: TEST_PASSWORD,
      ...extra,
    });
    expect(res.statusCode).toBe(201);
    const created = res.json<AdminUserWire>();
    expect(created).toMatchObject({ role, email, name: `New ${role}`, disabled: false, ...extra });

    const client = await t.login({ email: email.toLowerCase() });
    expect((await client.get('/api/me')).json()).toMatchObject({ id: created.id, role });

    const rows = await auditOf('user.create', created.id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      actorId: adminId,
      actorName: 'Ada Admin',
      detail: { role },
    });
  });

  it.each([
    [{ password: 'too short' }, 'password'],
    [{ password: 'x'.repeat(129) }, 'password'],
    [{ email: 'not an email' }, 'email'],
    [{ role: 'superuser' }, 'role'],
    [{ name: '   ' }, 'name'],
    [{ dateOfBirth: '31/12/1990' }, 'dateOfBirth'],
    [{ workingHours: [{ day: 9, start: '09:00', end: '17:00' }] }, 'workingHours'],
    // A patient has no working hours.
    [{ workingHours: [{ day: 1, start: '09:00', end: '17:00' }] }, 'workingHours'],
  ])('refuses to create %j and writes nothing', async (override, field) => {
    const before = await userCount();
    const auditBefore = (await auditOf('user.create')).length;
    const res = await admin.post('/api/admin/users', {
      role: 'patient',
      email: `someone.${Math.random()}@example.com`,
      name: 'Someone',
      password: TEST_PASSWORD,
      ...override,
    });
    expect(res.statusCode).toBe(400);
    const problem = res.json<{ code: string; errors: { path: string }[] }>();
    expect(problem.code).toBe('validation_failed');
    expect(problem.errors.map((e) => e.path).join(' ')).toContain(field);
    expect(await userCount()).toBe(before);
    expect((await auditOf('user.create')).length).toBe(auditBefore);
  });

  it('refuses a second account with the same email in any case', async () => {
    const existing = await t.createUser('patient', { email: 'Twin.Person@example.com' });
    const res = await admin.post('/api/admin/users', {
      role: 'patient',
      email: 'twin.PERSON@example.com',
      name: 'Twin',
      password: TEST_PASSWORD,
    });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'email_taken' });
    const edit = await admin.request('PATCH', `/api/admin/users/${existing.id}`, {
      email: 'TWIN.person@example.com',
    });
    expect(edit.statusCode).toBe(200);
  });

  it('changes name, email, specialty, working hours and out-of-office, and audits which fields', async () => {
    const p = await t.createUser('practitioner');
    const res = await admin.request('PATCH', `/api/admin/users/${p.id}`, {
      name: 'Dr. Renamed',
      email: 'renamed@example.com',
      specialty: 'Neurology',
      workingHours: [{ day: 2, start: '08:00', end: '12:00' }],
      outOfOffice: 'On leave until the 14th',
      unknownField: 'ignored',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      id: p.id,
      name: 'Dr. Renamed',
      email: 'renamed@example.com',
      specialty: 'Neurology',
      workingHours: [{ day: 2, start: '08:00', end: '12:00' }],
      outOfOffice: 'On leave until the 14th',
    });
    expect(res.body).not.toContain('unknownField');
    await t.login({ email: 'renamed@example.com' });

    const rows = await auditOf('user.update', p.id);
    expect(rows[0]).toMatchObject({
      actorId: adminId,
      detail: { fields: 'email,name,outOfOffice,specialty,workingHours' },
    });
    expect(JSON.stringify(rows)).not.toContain('On leave');
  });

  it('answers 404 for an account that does not exist and 400 for an empty change', async () => {
    const missing = await admin.request('PATCH', '/api/admin/users/no-such-user', { name: 'X' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'not_found' });
    const p = await t.createUser('patient');
    const empty = await admin.request('PATCH', `/api/admin/users/${p.id}`, {});
    expect(empty.statusCode).toBe(400);
    expect(empty.json()).toMatchObject({ code: 'validation_failed' });
  });

  it('disabling a user ends their session (their next request is 401) and stops sign-in; enabling restores it', async () => {
    const user = await t.createUser('patient');
    const session = await t.login(user);
    expect((await session.get('/api/me')).statusCode).toBe(200);

    const res = await admin.request('PATCH', `/api/admin/users/${user.id}`, { disabled: true });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      disabled: true,
      disabledAt: new Date(clock.now()).toISOString(),
    });

    const next = await session.get('/api/me');
    expect(next.statusCode).toBe(401);
    expect(next.json()).toMatchObject({ code: 'unauthenticated' });
    await expect(t.login(user)).rejects.toThrow(/401/);
    expect(await auditOf('user.disable', user.id)).toHaveLength(1);

    const enabled = await admin.request('PATCH', `/api/admin/users/${user.id}`, {
      disabled: false,
    });
    expect(enabled.json()).toMatchObject({ disabled: false, disabledAt: null });
    await t.login(user);
    expect(await auditOf('user.enable', user.id)).toHaveLength(1);
  });

  it('does not let an admin disable their own account', async () => {
    const res = await admin.request('PATCH', `/api/admin/users/${adminId}`, { disabled: true });
    expect(res.statusCode).toBe(409);
    expect((await admin.get('/api/me')).statusCode).toBe(200);
  });

  it('sets a new password, which ends the user’s sessions, and audits it without the password', async () => {
    const user = await t.createUser('practitioner');
    const session = await t.login(user);
    const short = await admin.post(`/api/admin/users/${user.id}/password`, { password: 'short' });
    expect(short.statusCode).toBe(400);
    expect((await session.get('/api/me')).statusCode).toBe(200);

    const res = await admin.post(`/api/admin/users/${user.id}/password`, {
      password: NEW_PASSWORD,
    });
    expect(res.statusCode).toBe(204);
    expect((await session.get('/api/me')).statusCode).toBe(401);
    await expect(t.login(user)).rejects.toThrow(/401/);
    await t.login(user, NEW_PASSWORD);

    const rows = await auditOf('user.password_reset', user.id);
    expect(rows).toHaveLength(1);
    expect(JSON.stringify(rows)).not.toContain(NEW_PASSWORD);

    const missing = await admin.post('/api/admin/users/nobody/password', {
      password: NEW_PASSWORD,
    });
    expect(missing.statusCode).toBe(404);
  });
});

describe('audit trail', () => {
  it('filters by actor, action, target and time, newest first', async () => {
    const start = clock.now();
    clock.advance(60_000);
    const actor = await t.createUser('practitioner');
    const c = await t.login(actor);
    clock.advance(60_000);
    const middle = clock.now();
    await c.post('/api/auth/logout');
    clock.advance(60_000);

    const byActor = (await admin.get(`/api/admin/audit?actorId=${actor.id}`)).json<AuditPageWire>()
      .events;
    expect(byActor.map((e) => e.action)).toEqual(['auth.logout', 'auth.login']);
    expect(byActor[0]).toMatchObject({
      actorId: actor.id,
      actorRole: 'practitioner',
      actorName: actor.name,
      ip: '127.0.0.1',
      at: new Date(middle).toISOString(),
    });

    const from = new Date(start).toISOString();
    const to = new Date(middle).toISOString();
    const inRange = (
      await admin.get(`/api/admin/audit?actorId=${actor.id}&from=${from}&to=${to}`)
    ).json<AuditPageWire>().events;
    expect(inRange.map((e) => e.action)).toEqual(['auth.login']);

    const byTarget = (
      await admin.get(`/api/admin/audit?targetId=${actor.id}&action=user.create`)
    ).json<AuditPageWire>().events;
    expect(byTarget).toHaveLength(1);
    expect(byTarget[0]).toMatchObject({ targetType: 'user', targetId: actor.id });
  });

  it('pages with beforeId until nextBeforeId is null, without gaps or repeats', async () => {
    for (let i = 0; i < 5; i += 1) {
      await t.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        headers: { origin: t.config.publicOrigin },
        payload: { email: `paging${i}@example.com`, password: 'wrong password here' },
        remoteAddress: `198.51.100.${i + 10}`,
      });
    }
    const all = (
      await admin.get('/api/admin/audit?action=auth.login_failed&limit=200')
    ).json<AuditPageWire>();
    expect(all.nextBeforeId).toBeNull();
    expect(all.events.length).toBeGreaterThanOrEqual(5);

    const seen: string[] = [];
    let before: string | null = '';
    let pages = 0;
    while (before !== null) {
      const q: string = before ? `&beforeId=${before}` : '';
      const page: AuditPageWire = (
        await admin.get(`/api/admin/audit?action=auth.login_failed&limit=2${q}`)
      ).json<AuditPageWire>();
      expect(page.events.length).toBeLessThanOrEqual(2);
      seen.push(...page.events.map((e) => e.id));
      before = page.nextBeforeId;
      pages += 1;
    }
    expect(pages).toBe(Math.ceil(all.events.length / 2));
    expect(seen).toEqual(all.events.map((e) => e.id));
    const ids = seen.map(Number);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
  });

  it('refuses a limit above 200 and malformed filters', async () => {
    for (const q of ['limit=201', 'limit=0', 'beforeId=abc', 'from=yesterday']) {
      const res = await admin.get(`/api/admin/audit?${q}`);
      expect(res.statusCode, q).toBe(400);
      expect(res.json()).toMatchObject({ code: 'validation_failed' });
    }
    expect((await admin.get('/api/admin/audit?limit=200')).statusCode).toBe(200);
  });

  it('exports CSV that a spreadsheet cannot run as formulas, and audits the export', async () => {
    const sly = await t.createUser('patient', { name: '=HYPERLINK("http://evil.example","x")' });
    await t.login(sly);

    const res = await admin.get(`/api/admin/audit.csv?actorId=${sly.id}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="carechat-audit-/);
    expect(res.headers['cache-control']).toBe('no-store');
    const lines = res.body.trimEnd().split('\r\n');
    expect(lines[0]).toBe(
      'id,at,actor_id,actor_role,actor_name,action,target_type,target_id,ip,detail',
    );
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(',auth.login,');
    expect(lines[1]).toContain(`,"'=HYPERLINK(""http://evil.example"",""x"")",`);

    const exports = await auditOf('audit.export');
    expect(exports[0]).toMatchObject({
      actorId: adminId,
      detail: { rows: 1, actorId: sly.id },
    });
  });
});

describe('/api/me', () => {
  it('returns the signed-in user', async () => {
    const user = await t.createUser('patient', { name: 'Mia Me' });
    const me = await t.login(user);
    const res = await me.get('/api/me');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: user.id, name: 'Mia Me', role: 'patient' });
  });

  it('lets a patient change their name but nothing the practice manages', async () => {
    const user = await t.createUser('patient');
    const me = await t.login(user);
    const renamed = await me.request('PATCH', '/api/me', { name: 'Mia Renamed' });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toMatchObject({ name: 'Mia Renamed' });
    expect((await auditOf('user.update', user.id))[0]).toMatchObject({
      actorId: user.id,
      detail: { fields: 'name' },
    });

    // Fields outside the allow-list are stripped, leaving nothing to change.
    for (const body of [{ email: 'evil@example.com' }, { disabled: true }, { role: 'admin' }]) {
      const res = await me.request('PATCH', '/api/me', body);
      expect(res.statusCode).toBe(400);
    }
    const hours = await me.request('PATCH', '/api/me', {
      workingHours: [{ day: 1, start: '09:00', end: '17:00' }],
    });
    expect(hours.statusCode).toBe(400);
    expect((await me.get('/api/me')).json()).toMatchObject({
      email: user.email,
      role: 'patient',
      disabled: false,
      workingHours: null,
    });
  });

  it('lets a practitioner set working hours and an out-of-office notice', async () => {
    const user = await t.createUser('practitioner');
    const me = await t.login(user);
    const res = await me.request('PATCH', '/api/me', {
      workingHours: [
        { day: 1, start: '08:00', end: '16:00' },
        { day: 3, start: '08:00', end: '12:00' },
      ],
      outOfOffice: 'Away this week; Dr. Davis covers.',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      workingHours: [
        { day: 1, start: '08:00', end: '16:00' },
        { day: 3, start: '08:00', end: '12:00' },
      ],
      outOfOffice: 'Away this week; Dr. Davis covers.',
    });
    const cleared = await me.request('PATCH', '/api/me', { outOfOffice: null });
    expect(cleared.json()).toMatchObject({ outOfOffice: null });

    const bad = await me.request('PATCH', '/api/me', {
      workingHours: [{ day: 1, start: '25:00', end: '16:00' }],
    });
    expect(bad.statusCode).toBe(400);
  });

  it('needs the CSRF token to change anything', async () => {
    const user = await t.createUser('patient');
    const me = await t.login(user);
    const res = await t.app.inject({
      method: 'PATCH',
      url: '/api/me',
      headers: { cookie: me.cookie, origin: t.config.publicOrigin },
      payload: { name: 'Forged' },
    });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'csrf_invalid' });
    expect((await me.get('/api/me')).json()).toMatchObject({ name: user.name });
  });
});
