import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';

describe('the session tells clients its idle timeout', () => {
  let t: TestApp | undefined;
  afterEach(() => t?.stop());

  it('reports the configured idle timeout at sign-in and on session checks', async () => {
    t = await startTestApp({ env: { SESSION_IDLE_MINUTES: '30' } });
    const user = await t.createUser('patient');
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/auth/login',
      headers: { origin: t.config.publicOrigin },
      payload: { email: user.email, password: 'correct horse battery' },
    });
    expect(login.json<{ idleTimeoutSeconds: number }>().idleTimeoutSeconds).toBe(1800);
    const client = await t.login(user);
    const session = await client.get('/api/auth/session');
    expect(session.json<{ idleTimeoutSeconds: number }>().idleTimeoutSeconds).toBe(1800);
  });

  it('defaults to 15 minutes', async () => {
    t = await startTestApp();
    const client = await t.login(await t.createUser('practitioner'));
    expect(
      (await client.get('/api/auth/session')).json<{ idleTimeoutSeconds: number }>()
        .idleTimeoutSeconds,
    ).toBe(900);
  });
});
