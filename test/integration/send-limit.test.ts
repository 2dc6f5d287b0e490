import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/domain/clock.js';
import type { TestApp, TestClient } from '../support/app.js';
import { sendMessage, startMessagingApp, storedMessages } from '../support/factories.js';
import { WsClient, buildConversation } from '../support/ws-client.js';
import { uniqueRedisPrefix } from '../support/redis.js';

/** A small budget keeps the tests short: five at once, then one a second. */
const env = { SEND_LIMIT_PER_SECOND: '1', SEND_LIMIT_BURST: '5' };

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

async function start(opts: Parameters<typeof startMessagingApp>[0] = {}): Promise<TestApp> {
  const t = await startMessagingApp({ listen: true, ...opts, env: { ...env, ...opts.env } });
  cleanup.push(() => t.stop());
  return t;
}

async function live(url: string, cookie: string): Promise<WsClient> {
  const ws = await WsClient.live(url, cookie);
  cleanup.push(() => ws.close());
  return ws;
}

/** Sends over a socket; resolves with the ack or the error frame answering it. */
async function wsSend(ws: WsClient, roomId: string, body: string) {
  const clientId = randomUUID();
  ws.send({ type: 'send', roomId, clientId, body });
  return ws.next(
    (e) => (e.type === 'ack' || e.type === 'error') && e.clientId === clientId,
    10_000,
  );
}

const httpSend = (client: TestClient, roomId: string, body: string) =>
  sendMessage(client, roomId, body);

describe('one send limit per user, over HTTP and the WebSocket', () => {
  it('answers an HTTP send over the limit with 429 rate_limited and Retry-After, and stores nothing', async () => {
    const t = await start();
    const c = await buildConversation(t);
    for (let i = 0; i < 5; i++)
      expect((await httpSend(c.patientClient, c.roomId, `burst ${i}`)).statusCode).toBe(201);
    const refused = await httpSend(c.patientClient, c.roomId, 'one too many');
    expect(refused.statusCode).toBe(429);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json()).toMatchObject({ status: 429, code: 'rate_limited' });
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await storedMessages(t, c.roomId)).map((m) => m.body)).not.toContain('one too many');

    // The other participant has a budget of their own.
    expect((await httpSend(c.practitionerClient, c.roomId, 'my own')).statusCode).toBe(201);
    // A second later there is room for one more, and only one.
    (t.clock as ManualClock).advance(1000);
    expect((await httpSend(c.patientClient, c.roomId, 'a second later')).statusCode).toBe(201);
    expect((await httpSend(c.patientClient, c.roomId, 'too soon')).statusCode).toBe(429);
  });

  it('shares one budget between a user’s tabs and HTTP, and tells the socket why', async () => {
    const t = await start();
    const c = await buildConversation(t);
    const tabA = await live(t.url, c.patientClient.cookie);
    const tabB = await live(t.url, c.patientClient.cookie);
    expect((await wsSend(tabA, c.roomId, 'a1')).type).toBe('ack');
    expect((await wsSend(tabA, c.roomId, 'a2')).type).toBe('ack');
    expect((await wsSend(tabB, c.roomId, 'b1')).type).toBe('ack');
    expect((await wsSend(tabB, c.roomId, 'b2')).type).toBe('ack');
    expect((await httpSend(c.patientClient, c.roomId, 'h1')).statusCode).toBe(201);

    const refused = await wsSend(tabA, c.roomId, 'a3');
    expect(refused).toMatchObject({ type: 'error', code: 'rate_limited' });
    expect((await wsSend(tabB, c.roomId, 'b3')).type).toBe('error');
    expect((await httpSend(c.patientClient, c.roomId, 'h2')).statusCode).toBe(429);
    // Refused, not disconnected: the tabs stay open and nothing extra was stored.
    expect(tabA.socket.readyState).toBe(tabA.socket.OPEN);
    expect((await storedMessages(t, c.roomId)).map((m) => m.body).sort()).toEqual(
      ['a1', 'a2', 'b1', 'b2', 'h1'].sort(),
    );
  });
});

const redisUrl = process.env.TEST_REDIS_URL;
if (!redisUrl) {
  process.stdout.write(
    'send-limit.test.ts: the across-processes case is skipped: TEST_REDIS_URL is not set\n',
  );
}

describe.skipIf(!redisUrl)('the send limit across processes (Redis)', () => {
  it('holds one budget for a user whose sends reach two processes', async () => {
    const { prefix, cleanup: forgetKeys } = uniqueRedisPrefix(redisUrl!);
    cleanup.push(forgetKeys);
    const clock = new ManualClock(Date.now());
    const redisEnv = { REDIS_URL: redisUrl!, REDIS_PREFIX: prefix };
    const one = await start({ clock, env: redisEnv });
    const two = await start({ clock, env: redisEnv, store: one.store });
    const c = await buildConversation(one);
    const viaTwo = await live(two.url, c.patientClient.cookie);

    for (let i = 0; i < 3; i++)
      expect((await httpSend(c.patientClient, c.roomId, `one ${i}`)).statusCode).toBe(201);
    expect((await wsSend(viaTwo, c.roomId, 'two 0')).type).toBe('ack');
    expect((await wsSend(viaTwo, c.roomId, 'two 1')).type).toBe('ack');
    expect(await wsSend(viaTwo, c.roomId, 'two 2')).toMatchObject({ code: 'rate_limited' });
    expect((await httpSend(c.patientClient, c.roomId, 'one 3')).statusCode).toBe(429);
  });
});
