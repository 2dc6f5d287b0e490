import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { MessageWire } from '../../src/shared/wire.js';
import { createTestStore, type TestStore } from '../support/app.js';
import { buildAcceptedAppointment, startMessagingApp } from '../support/factories.js';
import { ServerProcess } from '../support/server-process.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { WsClient } from '../support/ws-client.js';
import { uniqueRedisPrefix } from '../support/redis.js';

/**
 * Two real carechat processes (`node --import tsx src/server/main.ts`) on different
 * ports, sharing one PostgreSQL schema and one Redis prefix, as behind a load balancer.
 */
const pgUrl = process.env.TEST_DATABASE_URL?.startsWith('postgres')
  ? process.env.TEST_DATABASE_URL
  : undefined;
const redisUrl = process.env.TEST_REDIS_URL;
const skipReason = !pgUrl
  ? 'TEST_DATABASE_URL is not a postgres:// URL (runs in the postgres tier)'
  : !redisUrl
    ? 'TEST_REDIS_URL is not set'
    : undefined;
if (skipReason) process.stdout.write(`multiprocess.test.ts skipped: ${skipReason}\n`);

// Both processes answer to one public origin, as they do behind nginx.
const ORIGIN = 'http://carechat.test';

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
}, 30_000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function startServer(env: Record<string, string>): Promise<ServerProcess> {
  const proc = await ServerProcess.start('src/server/main.ts', { PUBLIC_ORIGIN: ORIGIN, ...env });
  cleanup.push(() => proc.stop());
  return proc;
}

async function readyz(
  proc: ServerProcess,
): Promise<{ status: string; bus: string; fanOut: string }> {
  const res = await fetch(`${proc.url}/readyz`);
  return (await res.json()) as { status: string; bus: string; fanOut: string };
}

/** An HTTP client with a session cookie, talking to one process. */
function http(base: string, cookie: string, csrf: string) {
  return {
    post: (path: string, body: unknown) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: {
          cookie,
          'x-csrf-token': csrf,
          'content-type': 'application/json',
          origin: ORIGIN,
        },
        body: JSON.stringify(body),
      }),
    get: (path: string) => fetch(`${base}${path}`, { headers: { cookie } }),
  };
}

interface Cluster {
  store: TestStore;
  prefix: string;
  p1: ServerProcess;
  p2: ServerProcess;
  redisProxy: TcpProxy;
  roomId: string;
  patient: { id: string; cookie: string; csrf: string };
  practitioner: { id: string; cookie: string; csrf: string };
}

/**
 * One PostgreSQL schema with a patient and a practitioner who share a room, and two
 * processes on it. Process 1 reaches Redis through a proxy the test can cut.
 */
async function cluster(): Promise<Cluster> {
  const store = await createTestStore();
  cleanup.push(() => store.drop());
  const { prefix, cleanup: forgetKeys } = uniqueRedisPrefix(redisUrl!);
  cleanup.push(forgetKeys);
  // Accounts and the room are made in-process (fast password hashing); the sessions
  // live in the shared store, so their cookies work on every process.
  const seed = await startMessagingApp({ store });
  const c = await buildAcceptedAppointment(seed);
  await seed.stop();

  const redisProxy = await TcpProxy.start({
    host: new URL(redisUrl!).hostname,
    port: Number(new URL(redisUrl!).port || 6379),
  });
  cleanup.push(() => redisProxy.close());
  const common = { DATABASE_URL: store.url, REDIS_PREFIX: prefix, DATABASE_POOL_SIZE: '5' };
  const [p1, p2] = await Promise.all([
    startServer({ ...common, REDIS_URL: redisProxy.url(redisUrl!) }),
    startServer({ ...common, REDIS_URL: redisUrl! }),
  ]);
  return {
    store,
    prefix,
    p1,
    p2,
    redisProxy,
    roomId: c.roomId,
    patient: {
      id: c.patient.user.id,
      cookie: c.patientClient.cookie,
      csrf: c.patientClient.csrfToken,
    },
    practitioner: {
      id: c.practitioner.user.id,
      cookie: c.practitionerClient.cookie,
      csrf: c.practitionerClient.csrfToken,
    },
  };
}

async function live(
  proc: ServerProcess,
  cookie: string,
  rooms: Record<string, number>,
): Promise<WsClient> {
  const ws = await WsClient.connect(proc.url, { cookie, origin: ORIGIN });
  cleanup.push(() => ws.close());
  await ws.nextOf('hello');
  await ws.resume(rooms);
  return ws;
}

async function storedMessages(c: Cluster): Promise<MessageWire[]> {
  const res = await http(c.p2.url, c.patient.cookie, c.patient.csrf).get(
    `/api/rooms/${c.roomId}/messages?after=0&limit=200`,
  );
  expect(res.status).toBe(200);
  return ((await res.json()) as { messages: MessageWire[] }).messages;
}

describe.skipIf(skipReason !== undefined)(
  'several server processes on PostgreSQL and Redis',
  () => {
    it('a patient on process 1 and a practitioner on process 2 exchange messages, receipts, typing and presence', async () => {
      const c = await cluster();
      expect(await readyz(c.p1)).toMatchObject({
        status: 'ready',
        bus: 'redis',
        fanOut: 'multi-process',
      });
      const practitioner = await live(c.p2, c.practitioner.cookie, { [c.roomId]: 0 });
      const patient = await live(c.p1, c.patient.cookie, { [c.roomId]: 0 });

      // Presence crosses processes.
      await practitioner.nextOf(
        'presence',
        (e) => e.userId === c.patient.id && e.status === 'online',
      );

      const clientId = randomUUID();
      patient.send({ type: 'send', roomId: c.roomId, clientId, body: 'Hello from process 1' });
      const { message } = await patient.nextOf('ack', (e) => e.clientId === clientId);
      const got = await practitioner.nextOf('message', (e) => e.message.id === message.id);
      expect(got.message).toEqual(message);

      await patient.nextOf(
        'receipt',
        (e) => e.kind === 'delivered' && e.seq === message.seq && e.userId === c.practitioner.id,
      );
      practitioner.send({ type: 'read', roomId: c.roomId, seq: message.seq });
      await patient.nextOf(
        'receipt',
        (e) => e.kind === 'read' && e.seq === message.seq && e.userId === c.practitioner.id,
      );

      practitioner.send({ type: 'typing', roomId: c.roomId, typing: true });
      await patient.nextOf('typing', (e) => e.userId === c.practitioner.id && e.typing);

      const replyId = randomUUID();
      practitioner.send({
        type: 'send',
        roomId: c.roomId,
        clientId: replyId,
        body: 'Hello from process 2',
      });
      const reply = await practitioner.nextOf('ack', (e) => e.clientId === replyId);
      expect(reply.message.seq).toBe(message.seq + 1);
      const back = await patient.nextOf('message', (e) => e.message.id === reply.message.id);
      expect(back.message.body).toBe('Hello from process 2');
    });

    it('presence counts connections across processes: online while any remains, offline after the last', async () => {
      const c = await cluster();
      const practitioner = await live(c.p2, c.practitioner.cookie, { [c.roomId]: 0 });
      const onP1 = await live(c.p1, c.patient.cookie, { [c.roomId]: 0 });
      await practitioner.nextOf(
        'presence',
        (e) => e.userId === c.patient.id && e.status === 'online',
      );
      const onP2 = await live(c.p2, c.patient.cookie, { [c.roomId]: 0 });

      // The patient's tab on process 2 closes; the one on process 1 is still there.
      await onP2.close();
      await sleep(1000);
      // (A repeated "online" is harmless; an "offline" here would be wrong.)
      expect(
        practitioner
          .framesOf('presence')
          .filter((e) => e.userId === c.patient.id && e.status !== 'online'),
      ).toEqual([]);

      // The last one closes on process 1, where the practitioner has no connection.
      await onP1.close();
      await practitioner.nextOf(
        'presence',
        (e) => e.userId === c.patient.id && e.status === 'offline',
      );
    });

    it('concurrent sends through both processes into one room get seq 1..n with no gap', async () => {
      const c = await cluster();
      const viaP1 = http(c.p1.url, c.patient.cookie, c.patient.csrf);
      const viaP2 = http(c.p2.url, c.practitioner.cookie, c.practitioner.csrf);
      const n = 60;
      const clientIds = Array.from({ length: n }, () => randomUUID());
      const responses = await Promise.all(
        clientIds.map((clientId, i) =>
          (i % 2 ? viaP2 : viaP1).post(`/api/rooms/${c.roomId}/messages`, {
            clientId,
            body: `m${i}`,
          }),
        ),
      );
      expect(responses.map((r) => r.status)).toEqual(Array.from({ length: n }, () => 201));
      const acked = (await Promise.all(responses.map((r) => r.json()))) as MessageWire[];
      expect(acked.map((m) => m.seq).sort((a, b) => a - b)).toEqual(
        Array.from({ length: n }, (_, i) => i + 1),
      );
      const stored = await storedMessages(c);
      expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      expect(new Set(stored.map((m) => m.clientId))).toEqual(new Set(clientIds));
    });

    it('SIGKILL of process 1 mid-conversation: the patient reconnects to process 2 and every acknowledged message is stored once and delivered', async () => {
      const c = await cluster();
      const practitioner = await live(c.p2, c.practitioner.cookie, { [c.roomId]: 0 });
      let patient = await live(c.p1, c.patient.cookie, { [c.roomId]: 0 });
      let onP2 = false;
      const total = 30;
      const clientIds = Array.from({ length: total }, () => randomUUID());
      const acked = new Map<string, MessageWire>();
      let lastSeq = 0;

      for (let i = 0; i < total; i++) {
        const clientId = clientIds[i]!;
        // A client that does not hear an ack sends the same clientId again, wherever it is now connected.
        for (let attempt = 0; !acked.has(clientId); attempt++) {
          expect(attempt).toBeLessThan(10);
          patient.send({ type: 'send', roomId: c.roomId, clientId, body: `message ${i}` });
          if (i === 10 && attempt === 0) void c.p1.kill();
          try {
            const ack = await patient.nextOf('ack', (e) => e.clientId === clientId, 3000);
            acked.set(clientId, ack.message);
            lastSeq = Math.max(lastSeq, ack.message.seq);
          } catch {
            if (!onP2) {
              await patient.closed;
              patient = await live(c.p2, c.patient.cookie, { [c.roomId]: lastSeq });
              onP2 = true;
            }
          }
        }
      }
      expect(onP2).toBe(true);

      const stored = await storedMessages(c);
      for (const clientId of clientIds) {
        const copies = stored.filter((m) => m.clientId === clientId);
        expect(
          copies.map((m) => m.id),
          clientId,
        ).toEqual([acked.get(clientId)!.id]);
      }
      expect(stored.map((m) => m.seq)).toEqual(
        Array.from({ length: stored.length }, (_, i) => i + 1),
      );
      expect(stored).toHaveLength(total);

      // The practitioner, on the surviving process, received every one exactly once.
      const last = acked.get(clientIds[total - 1]!)!;
      await practitioner.nextOf('message', (e) => e.message.id === last.id, 10_000);
      const received = practitioner.framesOf('message').map((e) => e.message.id);
      expect(received).toEqual(stored.map((m) => m.id));
    });

    it('Redis cut during traffic: both processes keep storing, process 1 reports degraded, and fan-out resumes with nothing lost', async () => {
      const c = await cluster();
      const practitioner = await live(c.p2, c.practitioner.cookie, { [c.roomId]: 0 });
      const patient = await live(c.p1, c.patient.cookie, { [c.roomId]: 0 });
      const sent: MessageWire[] = [];
      const sendOne = async (body: string) => {
        const clientId = randomUUID();
        patient.send({ type: 'send', roomId: c.roomId, clientId, body });
        sent.push((await patient.nextOf('ack', (e) => e.clientId === clientId)).message);
      };
      await sendOne('before');
      await practitioner.nextOf('message', (e) => e.message.id === sent[0]!.id);

      c.redisProxy.cut();
      const deadline = Date.now() + 10_000;
      while ((await readyz(c.p1)).status !== 'degraded') {
        expect(Date.now()).toBeLessThan(deadline);
        await sleep(50);
      }
      const res = await fetch(`${c.p1.url}/readyz`);
      expect(res.status).toBe(200);
      for (let i = 0; i < 10; i++) await sendOne(`during ${i}`);
      // The practitioner's process also keeps taking messages.
      const reply = await http(c.p2.url, c.practitioner.cookie, c.practitioner.csrf).post(
        `/api/rooms/${c.roomId}/messages`,
        { clientId: randomUUID(), body: 'reply during the cut' },
      );
      expect(reply.status).toBe(201);

      c.redisProxy.restore();
      while ((await readyz(c.p1)).status !== 'ready') {
        expect(Date.now()).toBeLessThan(deadline + 15_000);
        await sleep(50);
      }
      await sendOne('after');
      const last = sent[sent.length - 1]!;
      await practitioner.nextOf('message', (e) => e.message.id === last.id, 10_000);
      const stored = await storedMessages(c);
      expect(stored).toHaveLength(sent.length + 1);
      const received = practitioner.framesOf('message').map((e) => e.message.id);
      // Every message reached the practitioner's socket once, in seq order (its own HTTP reply too, as to any other tab).
      expect(received).toEqual(stored.map((m) => m.id));
      const patientGot = await patient.nextOf(
        'message',
        (e) => e.message.body === 'reply during the cut',
        10_000,
      );
      expect(patientGot.message.senderId).toBe(c.practitioner.id);
    });
  },
);
