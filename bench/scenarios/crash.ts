import BetterSqlite3 from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  carechatEndpoint,
  fmt,
  verify,
  type Harness,
  type ScenarioOutcome,
} from '../lib/harness.js';
import { startCarechat, type CarechatProcess } from '../lib/processes.js';
import type { ConnectResult, LoadResult } from '../lib/protocol.js';
import { seed } from '../seed.js';

export interface CrashCheck {
  rate: number;
  acknowledged: number;
  /** Acknowledged but not in history after the restart: must be 0. */
  missing: number;
  /** Client ids stored more than once: must be 0. */
  duplicated: number;
  /** Stored, but the ack never reached the sender (committed as the process died): allowed. */
  storedUnacknowledged: number;
  restartedInMs: number;
}

/**
 * (10) kill -9 in the middle of an open-loop run at a knee rate, on SQLite FULL: carechat
 * is killed with no warning half-way, started again on the same file, and the file must
 * hold every message the server acknowledged, each exactly once. A message stored but not
 * acknowledged is fine (the commit won the race with the kill; the client will re-send it
 * with the same client id, which the server deduplicates).
 */
export async function crash(h: Harness): Promise<Omit<ScenarioOutcome, 'name' | 'seconds'>> {
  const { pairs, rate, durationMs } = h.plan.crash;
  const dir = mkdtempSync(join(tmpdir(), 'carechat-bench-crash-'));
  const dbPath = join(dir, 'carechat.db');
  const seedPath = join(dir, 'seed.json');
  const logPath = (n: string) => join(h.resultsDir, `crash-${n}.server.log`);
  let server: CarechatProcess | undefined;
  try {
    h.log(`crash: seeding ${pairs} pairs`);
    const seeded = await seed({ dbPath, seedPath, pairs });
    server = await startCarechat({ dbPath, logPath: logPath('before') });
    if ((await verify(server, seeded)).session !== 200)
      throw new Error('a seeded session was refused');
    await h.gen.request({ op: 'init', seedPath }, 60_000);
    const conn = await h.gen.request<ConnectResult>(
      {
        op: 'connect',
        target: 'carechat',
        endpoint: carechatEndpoint(server),
        pairs,
        concurrency: 50,
        maxFailures: 50,
        timeLimitMs: 120_000,
      },
      180_000,
    );
    const victim = server;
    const killer = setTimeout(() => void victim.kill(), durationMs / 2);
    const run = await h.gen
      .request<LoadResult>(
        { op: 'load', target: 'carechat', rate, durationMs, drainMs: 2_000, withAcks: true },
        durationMs + 60_000,
      )
      .finally(() => clearTimeout(killer));
    await victim.kill();
    const t = performance.now();
    server = await startCarechat({ dbPath, logPath: logPath('after') });
    const restartedInMs = performance.now() - t;
    const acked = run.acked ?? { tag: '', keys: [] };
    const stored = storedKeys(dbPath, acked.tag);
    const ackedSet = new Set(acked.keys);
    const counts = new Map<number, number>();
    for (const k of stored) counts.set(k, (counts.get(k) ?? 0) + 1);
    const check: CrashCheck = {
      rate,
      acknowledged: acked.keys.length,
      missing: acked.keys.filter((k) => !counts.has(k)).length,
      duplicated: [...counts.values()].filter((n) => n > 1).length,
      storedUnacknowledged: [...counts.keys()].filter((k) => !ackedSet.has(k)).length,
      restartedInMs: Math.round(restartedInMs),
    };
    const pass = check.acknowledged > 0 && check.missing === 0 && check.duplicated === 0;
    h.log(
      `crash: ${check.acknowledged} acknowledged of ${run.sent} sent; missing ${check.missing}, duplicated ${check.duplicated}, stored unacknowledged ${check.storedUnacknowledged}: ${pass ? 'pass' : 'FAIL'}`,
    );
    return {
      data: { connections: conn, check, sent: run.sent, closes: run.closes },
      rows: [
        {
          scenario: 'crash',
          figure: `kill -9 half-way through ${durationMs / 1000} s at ${fmt.rate(rate)} (${fmt.n(pairs * 2)} connections), restart: acknowledged messages missing / stored twice`,
          carechat: `${fmt.n(check.missing)} / ${fmt.n(check.duplicated)} of ${fmt.n(check.acknowledged)} acknowledged (${fmt.n(check.storedUnacknowledged)} stored without an ack; restart ${fmt.n(check.restartedInMs)} ms)`,
          relay: '–',
          target: '0 / 0',
          pass,
          issue: 'kill -9 during a knee-rate run: no acknowledged message lost or duplicated',
        },
      ],
    };
  } finally {
    await h.gen.request({ op: 'disconnect', target: 'carechat' }, 60_000).catch(() => undefined);
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Message numbers of the run's client ids in the file, one entry per stored row. */
function storedKeys(dbPath: string, tag: string): number[] {
  if (!tag) return [];
  const db = new BetterSqlite3(dbPath, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare('select client_id from messages where client_id like ?')
      .all(`${tag}%`) as { client_id: string }[];
    return rows.map((r) => parseInt(r.client_id.slice(tag.length), 16));
  } finally {
    db.close();
  }
}
