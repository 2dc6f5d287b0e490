import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seed, type SeedOptions } from '../seed.js';
import type { Plan } from './plan.js';
import type { SqlStat } from './sql-stats.js';
import {
  startCarechat,
  type CarechatProcess,
  type Generator,
  type RelayProcess,
} from './processes.js';
import type { Endpoint, SeedFile } from './protocol.js';

/** What every scenario gets from the harness. */
export interface Harness {
  plan: Plan;
  gen: Generator;
  relay: RelayProcess;
  resultsDir: string;
  /** Directory for --profile's .cpuprofile files, when profiling. */
  profileDir: string | undefined;
  /** With --sql-stats: each scenario's SQLite statements by time spent, filled in as they finish. */
  sqlStats: Map<string, SqlStat[]> | undefined;
  log(line: string): void;
}

/** One line of the summary table. `pass` is null where the issue sets no target. */
export interface Row {
  scenario: string;
  figure: string;
  carechat: string;
  relay: string;
  target: string;
  pass: boolean | null;
  /** carechat's figure over the relay's in the same run (a rate: higher is better; a time: lower). */
  ratio?: number | undefined;
  /** This row answers a line of issue 12's target table: its scenario there. */
  issue?: string | undefined;
}

/** carechat / relay, undefined when the relay's figure is zero or missing. */
export const ratioOf = (carechat: number, relay: number): number | undefined =>
  relay > 0 && Number.isFinite(carechat) ? Math.round((carechat / relay) * 100) / 100 : undefined;

export interface ScenarioOutcome {
  name: string;
  seconds: number;
  rows: Row[];
  data: unknown;
  error?: string;
  /** With --sql-stats: the heaviest statements carechat ran in this scenario. */
  sql?: SqlStat[];
}

export const relayEndpoint = (relay: RelayProcess): Endpoint => ({
  wsUrl: `ws://127.0.0.1:${relay.port}/`,
  origin: 'http://127.0.0.1',
  cookieName: 'unused',
});

export const carechatEndpoint = (server: CarechatProcess): Endpoint => ({
  wsUrl: `ws://127.0.0.1:${server.port}/api/ws`,
  origin: server.origin,
  cookieName: 'carechat_session',
});

export interface Running {
  server: CarechatProcess;
  seed: SeedFile;
  dbPath: string;
  seedSeconds: number;
  /** What proves the seeded accounts and sessions are real: status codes of a login and a session check. */
  verified: { login: number; session: number };
}

/**
 * Seeds a fresh database, starts carechat on it, checks that a seeded account can sign in
 * and a seeded session is accepted, hands the tokens to the generator, runs `fn`, and
 * tears everything down whatever happens.
 */
export async function withCarechat<T>(
  h: Harness,
  name: string,
  seedOptions: Omit<SeedOptions, 'dbPath' | 'seedPath'>,
  fn: (run: Running) => Promise<T>,
  opts: { profile?: boolean; metrics?: boolean; env?: Record<string, string> } = {},
): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), `carechat-bench-${name}-`));
  const dbPath = join(dir, 'carechat.db');
  const seedPath = join(dir, 'seed.json');
  const sqlStatsPath = join(dir, 'sql-stats.json');
  let server: CarechatProcess | undefined;
  try {
    const t = performance.now();
    h.log(`${name}: seeding ${seedOptions.pairs} pairs`);
    const seeded = await seed({ ...seedOptions, dbPath, seedPath });
    const seedSeconds = (performance.now() - t) / 1000;
    h.log(`${name}: seeded in ${seedSeconds.toFixed(1)} s; starting carechat`);
    server = await startCarechat({
      dbPath,
      logPath: join(h.resultsDir, `${name}.server.log`),
      cpuProfDir: opts.profile ? h.profileDir : undefined,
      metrics: opts.metrics,
      env: opts.env,
      sqlStatsPath: h.sqlStats ? sqlStatsPath : undefined,
    });
    const verified = await verify(server, seeded);
    if (verified.session !== 200) {
      throw new Error(`a seeded session was refused (GET /api/auth/session: ${verified.session})`);
    }
    await h.gen.request({ op: 'init', seedPath }, 60_000);
    return await fn({ server, seed: seeded, dbPath, seedSeconds, verified });
  } finally {
    await h.gen.request({ op: 'disconnect', target: 'carechat' }, 60_000).catch(() => undefined);
    await h.gen.request({ op: 'disconnect', target: 'relay' }, 60_000).catch(() => undefined);
    await server?.stop();
    if (h.sqlStats && existsSync(sqlStatsPath)) {
      h.sqlStats.set(name, JSON.parse(readFileSync(sqlStatsPath, 'utf8')) as SqlStat[]);
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function verify(
  server: CarechatProcess,
  seeded: SeedFile,
): Promise<Running['verified']> {
  const login = await fetch(`${server.origin}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: server.origin },
    body: JSON.stringify({ email: seeded.emails.patient, password: seeded.password }),
  });
  const last = seeded.pairs[seeded.pairs.length - 1]!;
  const session = await fetch(`${server.origin}/api/auth/session`, {
    headers: { cookie: `carechat_session=${last.practitioner.token}` },
  });
  return { login: login.status, session: session.status };
}

export const fileBytes = (path: string): number => {
  try {
    return statSync(path).size + statSync(`${path}-wal`).size;
  } catch {
    return 0;
  }
};

export const fmt = {
  ms: (v: number) => `${v.toFixed(v < 10 ? 2 : 1)} ms`,
  rate: (v: number) => `${v.toLocaleString('en-US')}/s`,
  kib: (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`,
  mib: (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`,
  n: (v: number) => v.toLocaleString('en-US'),
  ratio: (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : '∞'),
};
