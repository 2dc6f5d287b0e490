import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  carechatEndpoint,
  fmt,
  verify,
  type Harness,
  type Row,
  type ScenarioOutcome,
} from '../lib/harness.js';
import {
  backendPids,
  freshSharedStore,
  GroupCpu,
  postgresPids,
  removeSharedStore,
  sharedStoreUrls,
} from '../lib/pg-side.js';
import { ProcRecorder, type WindowUsage } from '../lib/proc.js';
import { startCarechat, type CarechatProcess } from '../lib/processes.js';
import type { ConnectResult, LoadResult } from '../lib/protocol.js';
import { sleep } from '../lib/ws-clients.js';
import { seed } from '../seed.js';
import { saturated, sustains } from './knee.js';

export interface TwoProcessStep {
  rate: number;
  result: LoadResult;
  a: WindowUsage;
  b: WindowUsage;
  /** PostgreSQL backends serving carechat's pools. */
  postgresOurs: { cpuSeconds: number; cpuCores: number; processes: number };
  /** Every postgres process on the machine (other users of the server included). */
  postgresAll: { cpuSeconds: number; cpuCores: number; processes: number };
  sustained: boolean;
}

const skipped = (reason: string): Omit<ScenarioOutcome, 'name' | 'seconds'> => ({
  data: { skipped: reason },
  rows: [
    {
      scenario: 'two-processes',
      figure: 'skipped',
      carechat: reason,
      relay: '',
      target: '≥ 3,000/s',
      pass: null,
      issue: 'two processes on PostgreSQL + Redis, knee',
    },
  ],
});

/**
 * (7) Two carechat processes on one PostgreSQL and one Redis: every patient on process A,
 * every practitioner on B, so each message is committed by one process and delivered by
 * the other through Redis. Open loop in steps, as the knee: what a practice that outgrows
 * one process gets from two. Fresh schema and key prefix, removed after.
 */
export async function twoProcesses(h: Harness): Promise<Omit<ScenarioOutcome, 'name' | 'seconds'>> {
  const urls = sharedStoreUrls();
  if ('reason' in urls) {
    h.log(`two-processes: skipped: ${urls.reason}`);
    return skipped(urls.reason);
  }
  const { pairs, rates, stepMs, drainMs } = h.plan.twoProcesses;
  const store = freshSharedStore(urls.pg, urls.redis);
  const dir = mkdtempSync(join(tmpdir(), 'carechat-bench-two-'));
  const servers: CarechatProcess[] = [];
  try {
    h.log(`two-processes: seeding ${pairs} pairs in schema ${store.schema}`);
    const seedPath = join(dir, 'seed.json');
    const seeded = await seed({ dbPath: '', databaseUrl: store.databaseUrl, seedPath, pairs });
    const env = {
      REDIS_URL: store.redisUrl,
      REDIS_PREFIX: store.redisPrefix,
      // node-postgres reads it as application_name: how PostgreSQL's backends are told apart.
      PGAPPNAME: store.appName,
    };
    for (const name of ['a', 'b']) {
      servers.push(
        await startCarechat({
          dbPath: '',
          databaseUrl: store.databaseUrl,
          env,
          logPath: join(h.resultsDir, `two-processes-${name}.server.log`),
        }),
      );
    }
    const [a, b] = servers as [CarechatProcess, CarechatProcess];
    for (const s of servers) {
      const v = await verify(s, seeded);
      if (v.session !== 200) throw new Error(`a seeded session was refused (${v.session})`);
    }
    await h.gen.request({ op: 'init', seedPath }, 60_000);
    const conn = await h.gen.request<ConnectResult>(
      {
        op: 'connect',
        target: 'carechat',
        endpoint: carechatEndpoint(a),
        practitionerEndpoint: carechatEndpoint(b),
        pairs,
        concurrency: 50,
        maxFailures: 50,
        timeLimitMs: 120_000,
      },
      180_000,
    );
    h.log(`two-processes: ${conn.connected} connections (patients on A, practitioners on B)`);
    await h.gen.request<LoadResult>(
      {
        op: 'load',
        target: 'carechat',
        rate: rates[0]!,
        durationMs: h.plan.quick ? 1_000 : 3_000,
        drainMs,
      },
      drainMs + 60_000,
    );
    const ours = await backendPids(store);
    const steps: TwoProcessStep[] = [];
    for (const rate of rates) {
      const recA = new ProcRecorder(a.pid).start();
      const recB = new ProcRecorder(b.pid).start();
      const pgOurs = new GroupCpu(() => ours).start();
      const pgAll = new GroupCpu(postgresPids).start();
      const result = await h.gen.request<LoadResult>(
        { op: 'load', target: 'carechat', rate, durationMs: stepMs, drainMs },
        stepMs + drainMs + 60_000,
      );
      const step: TwoProcessStep = {
        rate,
        result,
        a: recA.stop(),
        b: recB.stop(),
        postgresOurs: pgOurs.stop(),
        postgresAll: pgAll.stop(),
        sustained: sustains(result),
      };
      steps.push(step);
      h.log(
        `two-processes ${rate}/s: p50 ${result.latency.p50} p99 ${result.latency.p99} lost ${result.lost} dup ${result.duplicated}; cpu A ${step.a.cpuCores.toFixed(2)} B ${step.b.cpuCores.toFixed(2)} pg ${step.postgresOurs.cpuCores.toFixed(2)} (all postgres ${step.postgresAll.cpuCores.toFixed(2)})`,
      );
      if (saturated(result)) break;
      await sleep(h.plan.quick ? 300 : 1_000);
    }
    return { data: { connections: conn, steps, schema: store.schema }, rows: rowsOf(steps, pairs) };
  } finally {
    await h.gen.request({ op: 'disconnect', target: 'carechat' }, 60_000).catch(() => undefined);
    for (const s of servers) await s.stop();
    await removeSharedStore(store).catch((err: unknown) =>
      h.log(`two-processes: cleanup failed: ${err instanceof Error ? err.message : String(err)}`),
    );
    rmSync(dir, { recursive: true, force: true });
  }
}

function rowsOf(steps: readonly TwoProcessStep[], pairs: number): Row[] {
  const held = steps.filter((s) => s.sustained);
  const knee = held[held.length - 1];
  // The CPU figures are read at the knee, or at the first step when none held.
  const at = knee ?? steps[0];
  const rate = knee?.rate ?? 0;
  const cores = (s: TwoProcessStep | undefined) =>
    s
      ? `A ${s.a.cpuCores.toFixed(2)}, B ${s.b.cpuCores.toFixed(2)}; PostgreSQL ${s.postgresOurs.cpuCores.toFixed(2)} (${s.postgresOurs.processes} backends; every postgres process ${s.postgresAll.cpuCores.toFixed(2)})`
      : '–';
  return [
    {
      scenario: 'two-processes',
      figure: `knee: highest rate with no loss and p99 < 50 ms (${fmt.n(pairs * 2)} connections, every pair crossing processes)`,
      carechat: fmt.rate(rate),
      relay: '–',
      target: '≥ 3,000/s',
      pass: rate >= 3_000,
      issue: 'two processes on PostgreSQL + Redis, knee',
    },
    {
      scenario: 'two-processes',
      figure: `p50 / p99 at ${knee ? 'the knee' : `${fmt.rate(at?.rate ?? 0)} (nothing held)`}`,
      carechat: at ? `${fmt.ms(at.result.latency.p50)} / ${fmt.ms(at.result.latency.p99)}` : '–',
      relay: '–',
      target: '',
      pass: null,
    },
    {
      scenario: 'two-processes',
      figure: `CPU (cores) at ${fmt.rate(at?.rate ?? 0)}: each carechat process; PostgreSQL`,
      carechat: cores(at),
      relay: '–',
      target: '',
      pass: null,
    },
    {
      scenario: 'two-processes',
      figure: 'steps: offered → p99, lost',
      carechat: steps
        .map((s) => `${fmt.rate(s.rate)} → ${fmt.ms(s.result.latency.p99)}, ${s.result.lost}`)
        .join('; '),
      relay: '–',
      target: '',
      pass: null,
    },
  ];
}
