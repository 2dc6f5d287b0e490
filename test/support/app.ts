import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import pg from 'pg';
import pino from 'pino';
import { buildApp, type App } from '../../src/server/app.js';
import { SCHEMA_LOCK } from '../../src/store/database.js';
import { loadConfig, type Config } from '../../src/server/config.js';
import { ManualClock, type Clock } from '../../src/domain/clock.js';
import { systemCtx } from '../../src/domain/context.js';
import type { Role, UserRow } from '../../src/store/schema.js';
import type { Bus } from '../../src/bus/bus.js';
import type { GatewayOptions } from '../../src/server/realtime/gateway.js';
import type { OutboxSettings } from '../../src/domain/events/dispatcher.js';
import type { Processor } from '../../src/domain/events/processor.js';

/** Fixture accounts hash with a low scrypt cost so the suite stays fast; production never can. */
export const FAST_SCRYPT = { N: 2 ** 10, r: 8, p: 1 };
export const TEST_PASSWORD = 'correct horse battery';

export interface TestStore {
  url: string;
  drop(): Promise<void>;
}

/**
 * A store of the test's own: a temporary SQLite file, or (when TEST_DATABASE_URL is a
 * PostgreSQL URL) a fresh schema in that database, dropped afterwards.
 */
export async function createTestStore(): Promise<TestStore> {
  const base = process.env.TEST_DATABASE_URL;
  if (base?.startsWith('postgres')) {
    const schema = `t_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    const client = new pg.Client({ connectionString: base });
    await client.connect();
    await client.query(`create schema ${schema}`);
    await client.end();
    const url = new URL(base);
    url.searchParams.set('schema', schema);
    return {
      url: url.toString(),
      drop: async () => {
        const c = new pg.Client({ connectionString: base });
        await c.connect();
        // Under the same lock as migrations: their check for tables reads every schema.
        await c.query('select pg_advisory_lock(hashtext($1))', [SCHEMA_LOCK]);
        await c.query(`drop schema if exists ${schema} cascade`);
        await c.query('select pg_advisory_unlock(hashtext($1))', [SCHEMA_LOCK]);
        await c.end();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'carechat-test-'));
  return {
    url: `sqlite:${join(dir, 'carechat.db')}`,
    drop: () => {
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}

export interface TestAppOptions {
  env?: Record<string, string>;
  clock?: Clock;
  bus?: Bus;
  listen?: boolean;
  store?: TestStore;
  /** Real-time gateway settings, e.g. a short heartbeat so its periodic checks run within a test. */
  gateway?: Partial<GatewayOptions>;
  /** Outbox processors of the test's own, and settings (a long poll keeps dispatch to runNow). */
  processors?: Processor[];
  outbox?: Partial<OutboxSettings>;
}

export interface TestApp extends App {
  config: Config;
  clock: ManualClock | Clock;
  /** Base URL when started with listen: true. */
  url: string;
  store: TestStore;
  createUser(
    role: Role,
    overrides?: Partial<{ name: string; email: string; specialty: string; password: string }>,
  ): Promise<UserRow>;
  login(user: Pick<UserRow, 'email'>, password?: string): Promise<TestClient>;
  stop(): Promise<void>;
}

export async function startTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const store = opts.store ?? (await createTestStore());
  const config = loadConfig({
    DATABASE_URL: store.url,
    DEMO: 'false',
    LOG_LEVEL: 'silent',
    PORT: '0',
    // TEST_SQLITE_WRITER_THREAD=true runs a tier with SQLite's writer in its worker thread.
    ...(process.env.TEST_SQLITE_WRITER_THREAD
      ? { SQLITE_WRITER_THREAD: process.env.TEST_SQLITE_WRITER_THREAD }
      : {}),
    ...opts.env,
  });
  const clock = opts.clock ?? new ManualClock(Date.now());
  const built = await buildApp({
    config,
    clock,
    passwordParams: FAST_SCRYPT,
    logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
    ...(opts.bus ? { bus: opts.bus } : {}),
    ...(opts.gateway ? { gateway: opts.gateway } : {}),
    ...(opts.processors ? { processors: opts.processors } : {}),
    ...(opts.outbox ? { outbox: opts.outbox } : {}),
  });
  let url = '';
  if (opts.listen) {
    const address = await built.app.listen({ port: 0, host: '127.0.0.1' });
    url = address;
    // Origin checks compare against the public origin, which is only known after listen.
    config.publicOrigin = address;
  }
  let counter = 0;
  const testApp: TestApp = {
    ...built,
    config,
    clock,
    url,
    store,
    createUser: (role, o = {}) => {
      counter += 1;
      const name =
        o.name ??
        `${role[0]!.toUpperCase()}${role.slice(1)} ${counter} ${randomUUID().slice(0, 4)}`;
      return built.services.accounts.create(systemCtx(), {
        role,
        name,
        email: o.email ?? `${role}.${counter}.${randomUUID().slice(0, 8)}@example.com`,
        password: o.password ?? TEST_PASSWORD,
        specialty: role === 'practitioner' ? (o.specialty ?? 'General Practice') : null,
        dateOfBirth: role === 'patient' ? '1980-01-01' : null,
      });
    },
    login: async (user, password = TEST_PASSWORD) => {
      const res = await built.app.inject({
        method: 'POST',
        url: '/api/auth/login',
        headers: { origin: config.publicOrigin },
        payload: { email: user.email, password },
      });
      if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
      const cookie = res.cookies.find((c) => c.name.endsWith('carechat_session'));
      const body = res.json<{ csrfToken: string; user: { id: string } }>();
      return new TestClient(
        built,
        `${cookie!.name}=${cookie!.value}`,
        body.csrfToken,
        body.user.id,
      );
    },
    stop: async () => {
      await built.close();
      if (!opts.store) await store.drop();
    },
  };
  return testApp;
}

/**
 * A signed-in caller: injects requests with its cookie and CSRF token, and the Origin a
 * browser on the app's own page would send.
 */
export class TestClient {
  constructor(
    private readonly built: App,
    readonly cookie: string,
    readonly csrfToken: string,
    readonly userId: string,
  ) {}

  get(url: string): Promise<LightMyRequestResponse> {
    return this.built.app.inject({ method: 'GET', url, headers: { cookie: this.cookie } });
  }

  request(
    method: 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    payload?: unknown,
  ): Promise<LightMyRequestResponse> {
    return this.built.app.inject({
      method,
      url,
      headers: {
        cookie: this.cookie,
        'x-csrf-token': this.csrfToken,
        origin: this.built.services.config.publicOrigin,
      },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
  }

  post(url: string, payload?: unknown): Promise<LightMyRequestResponse> {
    return this.request('POST', url, payload ?? {});
  }
}
