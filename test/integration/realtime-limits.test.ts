import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { Ctx } from '../../src/domain/context.js';
import { CloseCode } from '../../src/shared/events.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { WsClient, buildConversation, eventually } from '../support/ws-client.js';

const sockets: WsClient[] = [];
afterEach(async () => {
  await Promise.all(sockets.splice(0).map((s) => s.close()));
});

async function open(
  t: TestApp,
  opts: { cookie?: string; origin?: string | null },
): Promise<WsClient> {
  const ws = await WsClient.connect(t.url, opts);
  sockets.push(ws);
  return ws;
}

async function live(t: TestApp, cookie: string): Promise<WsClient> {
  const ws = await WsClient.live(t.url, cookie);
  sockets.push(ws);
  return ws;
}

describe('refused connections and commands', () => {
  const burst = 40;
  let t: TestApp;
  beforeAll(async () => {
    // A small bucket keeps the flood short; the manual clock never refills it behind our back.
    t = await startTestApp({ listen: true, gateway: { rate: { perSecond: 1, burst } } });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('refuses a foreign Origin with 4403, even with a valid session', async () => {
    const patient = await t.login(await t.createUser('patient'));
    for (const origin of ['https://evil.example', `${t.url}.evil.example`, 'null']) {
      const ws = await open(t, { cookie: patient.cookie, origin });
      expect((await ws.closed).code).toBe(CloseCode.originRefused);
      expect(ws.frames).toEqual([]);
    }
  });

  it('refuses a socket without an Origin with 4403, even with a valid session', async () => {
    const patient = await t.login(await t.createUser('patient'));
    const ws = await open(t, { cookie: patient.cookie, origin: null });
    expect((await ws.closed).code).toBe(CloseCode.originRefused);
    expect(ws.frames).toEqual([]);
    // The same session from the app's own page is let in.
    const own = await open(t, { cookie: patient.cookie });
    await own.nextOf('hello');
  });

  it('refuses a socket without a session, or with a dead one, with 4401', async () => {
    const anonymous = await open(t, {});
    expect((await anonymous.closed).code).toBe(CloseCode.unauthenticated);
    expect(anonymous.frames).toEqual([]);
    const forged = await open(t, { cookie: 'carechat_session=not-a-real-token' });
    expect((await forged.closed).code).toBe(CloseCode.unauthenticated);
    expect(forged.frames).toEqual([]);
  });

  it('closes with 4413 on a frame over 64 KB', async () => {
    const c = await buildConversation(t);
    const ws = await live(t, c.patientClient.cookie);
    ws.sendRaw(
      JSON.stringify({
        type: 'send',
        roomId: c.roomId,
        clientId: randomUUID(),
        body: 'x'.repeat(64 * 1024),
      }),
    );
    expect((await ws.closed).code).toBe(CloseCode.frameTooLarge);
    expect(ws.framesOf('ack')).toEqual([]);
    const page = await c.patientClient.get(`/api/rooms/${c.roomId}/messages`);
    expect(page.json<{ messages: unknown[] }>().messages).toEqual([]);
  });

  it('accepts a frame just under the cap', async () => {
    const c = await buildConversation(t);
    const ws = await live(t, c.patientClient.cookie);
    ws.sendRaw(JSON.stringify({ type: 'ping', pad: 'x'.repeat(60 * 1024) }));
    ws.send({ type: 'typing', roomId: c.roomId, typing: true });
    // Unknown fields are stripped: the padded ping is a valid ping, and the socket stays.
    const clientId = randomUUID();
    ws.send({ type: 'send', roomId: c.roomId, clientId, body: 'fits' });
    await ws.nextOf('ack', (e) => e.clientId === clientId);
    expect(ws.socket.readyState).toBe(ws.socket.OPEN);
  });

  it('closes a command flood with 4429', async () => {
    const c = await buildConversation(t);
    const ws = await live(t, c.patientClient.cookie);
    for (let i = 0; i < burst * 3; i++) ws.send({ type: 'ping' });
    expect((await ws.closed).code).toBe(CloseCode.rateLimited);
    // Another connection of the same user has its own bucket.
    const other = await live(t, c.patientClient.cookie);
    const clientId = randomUUID();
    other.send({ type: 'send', roomId: c.roomId, clientId, body: 'calm again' });
    await other.nextOf('ack', (e) => e.clientId === clientId);
  });

  it('counts invalid frames against the same bucket', async () => {
    const c = await buildConversation(t);
    const ws = await live(t, c.patientClient.cookie);
    for (let i = 0; i < burst * 3; i++) ws.sendRaw('{');
    expect((await ws.closed).code).toBe(CloseCode.rateLimited);
  });
});

describe('slow consumers', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ listen: true, gateway: { maxBufferedBytes: 256 * 1024 } });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('closes a reader that cannot keep up with 4408; it resumes without loss', async () => {
    const c = await buildConversation(t);
    const ws = await live(t, c.patientClient.cookie);
    ws.pauseReading();
    const ctx: Ctx = {
      actor: { id: c.practitioner.id, role: 'practitioner', name: c.practitioner.name },
      ip: null,
    };
    const body = 'x'.repeat(9_000);
    let sent = 0;
    // Fill the kernel's buffers and then ours; bounded so a broken limit fails instead of hanging.
    for (let round = 0; round < 60 && t.gateway.connectionCount > 0; round++) {
      await Promise.all(
        Array.from({ length: 100 }, () =>
          t.services.messages.send(ctx, c.roomId, { clientId: randomUUID(), body }),
        ),
      );
      sent += 100;
    }
    expect(t.gateway.connectionCount).toBe(0);
    ws.resumeReading();
    expect((await ws.closed).code).toBe(CloseCode.tooSlow);

    const got = ws.framesOf('message').map((e) => e.message.seq);
    const lastSeq = got.length ? got[got.length - 1]! : 0;
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => i + 1));
    const again = await open(t, { cookie: c.patientClient.cookie });
    await again.nextOf('hello');
    const { replayed, resumed } = await again.resume({ [c.roomId]: lastSeq });
    expect(resumed.truncated).toBeUndefined();
    expect(replayed.map((m) => m.seq)).toEqual(
      Array.from({ length: sent - lastSeq }, (_, i) => lastSeq + 1 + i),
    );
  }, 60_000);
});

describe('sessions that end close their sockets', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ listen: true });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('logout sends session.ended and closes every socket of that session with 4401', async () => {
    const c = await buildConversation(t);
    const tab1 = await live(t, c.patientClient.cookie);
    const tab2 = await live(t, c.patientClient.cookie);
    // A second sign-in (another device) is a different session and stays.
    const phone = await t.login(c.patient);
    const phoneWs = await live(t, phone.cookie);

    const res = await c.patientClient.post('/api/auth/logout');
    expect(res.statusCode).toBe(204);
    for (const ws of [tab1, tab2]) {
      expect(await ws.nextOf('session.ended')).toMatchObject({ reason: 'logout' });
      expect((await ws.closed).code).toBe(CloseCode.unauthenticated);
      expect(ws.frames[ws.frames.length - 1]!.type).toBe('session.ended');
    }
    expect(phoneWs.socket.readyState).toBe(phoneWs.socket.OPEN);

    // The old cookie no longer opens a socket.
    const again = await open(t, { cookie: c.patientClient.cookie });
    expect((await again.closed).code).toBe(CloseCode.unauthenticated);
  });

  it('disabling the account closes its sockets with 4401', async () => {
    const c = await buildConversation(t);
    const admin = await t.login(await t.createUser('admin'));
    const ws = await live(t, c.patientClient.cookie);
    const practitionerWs = await live(t, c.practitionerClient.cookie);

    const res = await admin.request('PATCH', `/api/admin/users/${c.patient.id}`, {
      disabled: true,
    });
    expect(res.statusCode).toBe(200);
    expect(await ws.nextOf('session.ended')).toMatchObject({ reason: 'disabled' });
    expect((await ws.closed).code).toBe(CloseCode.unauthenticated);
    // The other participant sees them leave.
    expect(
      await practitionerWs.nextOf(
        'presence',
        (e) => e.userId === c.patient.id && e.status === 'offline',
      ),
    ).toBeTruthy();
    expect(practitionerWs.socket.readyState).toBe(practitionerWs.socket.OPEN);
  });
});

describe('heartbeat and idle session expiry', () => {
  let t: TestApp;
  const clock = new ManualClock(Date.now());
  beforeAll(async () => {
    // A short heartbeat so the gateway's periodic session check runs within the test.
    t = await startTestApp({ listen: true, clock, gateway: { heartbeatMs: 300 } });
  });
  afterAll(async () => {
    await t.stop();
  });

  it('ends an idle session on its socket with session.ended and 4401', async () => {
    const c = await buildConversation(t);
    const ws = await live(t, c.patientClient.cookie);
    const practitionerWs = await live(t, c.practitionerClient.cookie);
    // Several heartbeats pass with the clock standing still: a live peer is not dropped.
    const pings = { n: 0 };
    ws.socket.on('ping', () => (pings.n += 1));
    await eventually(() => pings.n >= 3, 'three heartbeats', 10_000);
    expect(ws.socket.readyState).toBe(ws.socket.OPEN);

    // The practitioner stays active; the patient does nothing past the idle timeout.
    clock.advance(t.config.sessionIdleMs / 2);
    practitionerWs.send({ type: 'typing', roomId: c.roomId, typing: false });
    await c.practitionerClient.get('/api/auth/session');
    clock.advance(t.config.sessionIdleMs / 2 + 1000);

    expect(await ws.nextOf('session.ended', () => true, 10_000)).toMatchObject({
      reason: 'expired',
    });
    expect((await ws.closed).code).toBe(CloseCode.unauthenticated);
    expect((await c.patientClient.get('/api/auth/session')).statusCode).toBe(401);

    // The practitioner, active within the window, is still connected after further heartbeats.
    const more = pings.n;
    practitionerWs.socket.on('ping', () => (pings.n += 1));
    await eventually(() => pings.n >= more + 3, 'more heartbeats', 10_000);
    expect(practitionerWs.socket.readyState).toBe(practitionerWs.socket.OPEN);
    expect(practitionerWs.framesOf('session.ended')).toEqual([]);
  }, 30_000);

  it("an unattended tab's automatic pings and presence frames do not keep its session alive", async () => {
    const c = await buildConversation(t);
    const ws = await live(t, c.patientClient.cookie);
    const pings = { n: 0 };
    ws.socket.on('ping', () => (pings.n += 1));
    // The app's own traffic while nobody is at the keyboard; after each step two heartbeats
    // pass, so the server has handled the frames and checked the session before time moves on.
    for (let i = 0; i < 5 && ws.socket.readyState === ws.socket.OPEN; i++) {
      clock.advance(t.config.sessionIdleMs / 4 + 1000);
      ws.send({ type: 'ping' });
      ws.send({ type: 'presence', status: i % 2 ? 'online' : 'away' });
      const seen = pings.n;
      await eventually(
        () => pings.n >= seen + 2 || ws.socket.readyState !== ws.socket.OPEN,
        'two heartbeats',
        10_000,
      );
    }
    expect(await ws.nextOf('session.ended', () => true, 10_000)).toMatchObject({
      reason: 'expired',
    });
    expect((await ws.closed).code).toBe(CloseCode.unauthenticated);
  }, 30_000);

  it('drops a peer that stops answering pings, and its contacts see it go offline', async () => {
    const c = await buildConversation(t);
    const practitionerWs = await live(t, c.practitionerClient.cookie);
    // A client whose network vanished: it never answers the server's pings.
    const silent = await WsClient.connect(t.url, {
      cookie: c.patientClient.cookie,
      autoPong: false,
    });
    sockets.push(silent);
    await silent.nextOf('hello');
    await practitionerWs.nextOf(
      'presence',
      (e) => e.userId === c.patient.id && e.status === 'online',
    );

    expect((await silent.closed).code).toBe(1006);
    await practitionerWs.nextOf(
      'presence',
      (e) => e.userId === c.patient.id && e.status === 'offline',
      10_000,
    );
    expect(practitionerWs.socket.readyState).toBe(practitionerWs.socket.OPEN);
  }, 30_000);
});
