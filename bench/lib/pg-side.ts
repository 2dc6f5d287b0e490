/**
 * What the two-process scenario needs besides carechat: a PostgreSQL schema and a Redis key
 * prefix of its own (made fresh, removed after), and the CPU PostgreSQL spends on its behalf.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import pg from 'pg';
import { sampleProc } from './proc.js';

export interface SharedStore {
  /** postgres://…?schema=bench_… */
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  /** application_name carechat's connections carry (PGAPPNAME), to find their backends. */
  appName: string;
  schema: string;
}

/** The URLs from BENCH_* or TEST_* variables, or why the scenario cannot run. */
export function sharedStoreUrls(): { pg: string; redis: string } | { reason: string } {
  const pgUrl = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  const redis = process.env.BENCH_REDIS_URL ?? process.env.TEST_REDIS_URL;
  if (!pgUrl?.startsWith('postgres'))
    return {
      reason: 'no PostgreSQL: set BENCH_DATABASE_URL (or TEST_DATABASE_URL) to postgres://…',
    };
  if (!redis?.startsWith('redis'))
    return { reason: 'no Redis: set BENCH_REDIS_URL (or TEST_REDIS_URL) to redis://…' };
  return { pg: pgUrl, redis };
}

export function freshSharedStore(pgUrl: string, redisUrl: string): SharedStore {
  const id = randomBytes(4).toString('hex');
  const schema = `bench_${id}`;
  const url = new URL(pgUrl);
  url.searchParams.set('schema', schema);
  return {
    databaseUrl: url.toString(),
    redisUrl,
    redisPrefix: `carechat-bench-${id}:`,
    appName: `carechat-bench-${id}`,
    schema,
  };
}

function withoutSchema(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.searchParams.delete('schema');
  return url.toString();
}

/** Drops the run's schema and deletes its Redis keys, whatever state the run left them in. */
export async function removeSharedStore(s: SharedStore): Promise<void> {
  const client = new pg.Client({ connectionString: withoutSchema(s.databaseUrl) });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${s.schema}" cascade`);
  } finally {
    await client.end();
  }
  const redis = new Redis(s.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${s.redisPrefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** The PostgreSQL backends serving carechat's connections (by application_name). */
export async function backendPids(s: SharedStore): Promise<number[]> {
  const client = new pg.Client({ connectionString: withoutSchema(s.databaseUrl) });
  await client.connect();
  try {
    const r = await client.query<{ pid: number }>(
      'select pid from pg_stat_activity where application_name = $1',
      [s.appName],
    );
    return r.rows.map((row) => row.pid);
  } finally {
    await client.end();
  }
}

/** Every process named postgres this machine shows (other users of the server included). */
export function postgresPids(): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres')
        out.push(Number(entry));
    } catch {
      // Gone between the listing and the read.
    }
  }
  return out;
}

/** CPU seconds a set of processes spent between start() and stop(), summed. */
export class GroupCpu {
  private readonly first = new Map<number, number>();
  private startedAt = 0;

  constructor(private readonly pids: () => number[]) {}

  start(): this {
    this.startedAt = performance.now();
    for (const pid of this.pids()) {
      const s = sampleProc(pid);
      if (s) this.first.set(pid, s.cpuSeconds);
    }
    return this;
  }

  /** CPU seconds and cores; a process that ended before stop() is not counted. */
  stop(): { cpuSeconds: number; cpuCores: number; processes: number } {
    const seconds = (performance.now() - this.startedAt) / 1000;
    let cpu = 0;
    let n = 0;
    for (const [pid, before] of this.first) {
      const s = sampleProc(pid);
      if (!s) continue;
      cpu += s.cpuSeconds - before;
      n++;
    }
    return { cpuSeconds: cpu, cpuCores: seconds > 0 ? cpu / seconds : 0, processes: n };
  }
}
