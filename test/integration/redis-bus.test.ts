import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { BusEvent } from '../../src/bus/bus.js';
import { presenceFor, RedisPresenceStore } from '../../src/bus/presence-store.js';
import { createBus, RedisBus } from '../../src/bus/redis-bus.js';
import { startTestApp } from '../support/app.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { uniqueRedisPrefix } from '../support/redis.js';

const redisUrl = process.env.TEST_REDIS_URL;
if (!redisUrl) {
  process.stdout.write(
    'redis-bus.test.ts skipped: TEST_REDIS_URL is not set (e.g. TEST_REDIS_URL=redis://127.0.0.1:6379)\n',
  );
}

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

/** A key prefix no other test or deployment uses; its keys are deleted afterwards. */
function uniquePrefix(): string {
  const { prefix, cleanup: forgetKeys } = uniqueRedisPrefix(redisUrl!);
  cleanup.push(forgetKeys);
  return prefix;
}

function bus(prefix: string, url = redisUrl!): RedisBus {
  const b = new RedisBus({ url, prefix });
  cleanup.push(() => b.close());
  return b;
}

async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const messageEvent = (seq: number): BusEvent => ({
  t: 'messages',
  roomId: 'room-1',
  seq,
  userIds: ['u1', 'u2'],
  messages: [
    {
      id: `m${seq}`,
      roomId: 'room-1',
      seq,
      senderId: 'u1',
      clientId: `c${seq}`,
      body: 'private words',
      createdAt: new Date(0).toISOString(),
    },
  ],
});

describe.skipIf(!redisUrl)('Redis bus', () => {
  it('delivers own events at once with their messages, and to other processes once, without bodies', async () => {
    const prefix = uniquePrefix();
    const a = bus(prefix);
    const b = bus(prefix);
    const stranger = bus(uniquePrefix());
    expect(await Promise.all([a, b, stranger].map((x) => x.waitUntilHealthy(5000)))).toEqual([
      true,
      true,
      true,
    ]);
    const seenA: [BusEvent, boolean][] = [];
    const seenB: [BusEvent, boolean][] = [];
    const seenStranger: BusEvent[] = [];
    a.subscribe((e, local) => seenA.push([e, local]));
    b.subscribe((e, local) => seenB.push([e, local]));
    stranger.subscribe((e) => seenStranger.push(e));

    a.publish(messageEvent(1));
    // Synchronous, like LocalBus: before publish returned.
    expect(seenA).toHaveLength(1);
    expect(seenA[0]![1]).toBe(true);
    expect(seenA[0]![0]).toMatchObject({ t: 'messages', messages: [{ body: 'private words' }] });

    await eventually(() => seenB.length === 1);
    const [remote, local] = seenB[0]!;
    expect(local).toBe(false);
    expect(remote).toEqual({ t: 'messages', roomId: 'room-1', seq: 1, userIds: ['u1', 'u2'] });
    expect(JSON.stringify(remote)).not.toContain('private words');

    b.publish({ t: 'typing', roomId: 'room-1', userId: 'u2', typing: true, userIds: ['u1'] });
    await eventually(() => seenA.length === 2);
    expect(seenA[1]).toEqual([
      { t: 'typing', roomId: 'room-1', userId: 'u2', typing: true, userIds: ['u1'] },
      false,
    ]);
    await sleep(200);
    // Nobody hears its own event twice, and another prefix hears nothing.
    expect(seenA).toHaveLength(2);
    expect(seenB).toHaveLength(2);
    expect(seenStranger).toEqual([]);
  });

  it('keeps delivering locally while Redis is cut, drops instead of queueing, and resumes by itself', async () => {
    const prefix = uniquePrefix();
    const proxy = await TcpProxy.start({
      host: '127.0.0.1',
      port: Number(new URL(redisUrl!).port || 6379),
    });
    cleanup.push(() => proxy.close());
    const a = bus(prefix, proxy.url(redisUrl!));
    const b = bus(prefix);
    expect(await a.waitUntilHealthy(5000)).toBe(true);
    expect(await b.waitUntilHealthy(5000)).toBe(true);
    const localA: number[] = [];
    const remoteB: number[] = [];
    a.subscribe((e, local) => local && e.t === 'messages' && localA.push(e.seq));
    b.subscribe((e, local) => !local && e.t === 'messages' && remoteB.push(e.seq));

    a.publish(messageEvent(1));
    await eventually(() => remoteB.length === 1);

    proxy.cut();
    await eventually(() => !a.healthy());
    for (let seq = 2; seq <= 50; seq++) expect(() => a.publish(messageEvent(seq))).not.toThrow();
    expect(localA).toHaveLength(50);
    await eventually(() => a.droppedCount >= 49);

    proxy.restore();
    expect(await a.waitUntilHealthy(10_000)).toBe(true);
    a.publish(messageEvent(51));
    await eventually(() => remoteB.includes(51));
    // What was published while cut was dropped, not replayed late: clients catch up from the store.
    expect(remoteB).toEqual([1, 51]);
  });

  it('counts presence across processes, exactly one first connection and one last disconnection', async () => {
    const prefix = uniquePrefix();
    const a = bus(prefix);
    const b = bus(prefix);
    expect(await a.waitUntilHealthy(5000)).toBe(true);
    expect(await b.waitUntilHealthy(5000)).toBe(true);
    const pa = presenceFor(a);
    const pb = presenceFor(b);
    expect(presenceFor(a)).toBe(pa);

    const opened = await Promise.all([pa.connect('u1'), pb.connect('u1')]);
    expect([...opened].sort()).toEqual([1, 2]);
    expect(await pa.connect('u1')).toBe(3);
    expect(await pb.counts(['u1', 'u2'])).toEqual(
      new Map([
        ['u1', 3],
        ['u2', 0],
      ]),
    );
    expect(await pa.disconnect('u1')).toBe(2);
    const closed = await Promise.all([pa.disconnect('u1'), pb.disconnect('u1')]);
    expect([...closed].sort()).toEqual([0, 1]);
    expect((await pa.counts(['u1'])).get('u1')).toBe(0);

    // A process that shuts down stops counting at once.
    await pb.connect('u2');
    expect((await pa.counts(['u2'])).get('u2')).toBe(1);
    await b.close();
    expect((await pa.counts(['u2'])).get('u2')).toBe(0);
  });

  it('forgets a crashed process after its TTL, and restores counts after Redis loses them', async () => {
    const prefix = uniquePrefix();
    const conn = (name: string, heartbeatMs: number) => {
      const r = new Redis(redisUrl!);
      cleanup.push(() => r.quit());
      const store = new RedisPresenceStore({ redis: r, prefix, processId: name, heartbeatMs });
      cleanup.push(() => store.close());
      return store;
    };
    const alive = conn('alive', 100);
    // Its first heartbeat would come after the test: it stands for a process that crashed.
    const crashed = conn('crashed', 600_000);
    await crashed.connect('u1');
    await alive.connect('u1');
    expect((await alive.counts(['u1'])).get('u1')).toBe(2);
    await eventually(async () => (await alive.counts(['u1'])).get('u1') === 1, 3000);

    const r = new Redis(redisUrl!);
    cleanup.push(() => r.quit());
    const keys = await r.keys(`${prefix}*`);
    await r.del(...keys);
    expect((await alive.counts(['u1'])).get('u1')).toBe(0);
    await eventually(async () => (await alive.counts(['u1'])).get('u1') === 1, 3000);
  });

  it('selects Redis from REDIS_URL: readiness says multi-process, and rate limits count across processes', async () => {
    const prefix = uniquePrefix();
    const env = { REDIS_URL: redisUrl!, REDIS_PREFIX: prefix };
    const one = await startTestApp({ env });
    cleanup.push(() => one.stop());
    const two = await startTestApp({ env, store: one.store });
    cleanup.push(() => two.stop());
    const ready = await two.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({
      status: 'ready',
      bus: 'redis',
      busHealthy: true,
      fanOut: 'multi-process',
    });
    // Unknown paths allow 60 a minute per client, counted in Redis by both processes.
    const statuses: number[] = [];
    for (let i = 0; i < 62; i++) {
      const app = i % 2 === 0 ? one : two;
      statuses.push((await app.app.inject({ method: 'GET', url: `/nope-${i}` })).statusCode);
    }
    expect(statuses.slice(0, 60).every((s) => s === 404)).toBe(true);
    expect(statuses.slice(60)).toEqual([429, 429]);
  });
});

describe('bus selection', () => {
  function capture() {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    return { lines, log: pino({ level: 'info' }, stream) };
  }

  it('warns at start-up that PostgreSQL without REDIS_URL means one process only', async () => {
    const { lines, log } = capture();
    const b = await createBus({ redisUrl: undefined, prefix: 'x:', dialect: 'postgres', log });
    expect(b.mode).toBe('local');
    expect(lines.join('')).toMatch(/events will not cross between processes.*ONE carechat process/);
    const quiet = capture();
    await createBus({ redisUrl: undefined, prefix: 'x:', dialect: 'sqlite', log: quiet.log });
    expect(quiet.lines).toEqual([]);
  });

  it('starts degraded rather than not at all when Redis cannot be reached', async () => {
    const { lines, log } = capture();
    const proxy = await TcpProxy.start({ host: '127.0.0.1', port: 1 });
    proxy.cut();
    cleanup.push(() => proxy.close());
    const b = await createBus({
      redisUrl: `redis://127.0.0.1:${proxy.port}`,
      prefix: 'x:',
      dialect: 'postgres',
      log,
    });
    cleanup.push(() => b.close());
    expect(b.mode).toBe('redis');
    expect(b.healthy()).toBe(false);
    expect(lines.join('')).toMatch(/starting degraded/);
  });
});
