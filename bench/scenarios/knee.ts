import {
  carechatEndpoint,
  fmt,
  ratioOf,
  relayEndpoint,
  withCarechat,
  type Harness,
  type ScenarioOutcome,
} from '../lib/harness.js';
import { ProcRecorder, type WindowUsage } from '../lib/proc.js';
import type { ConnectResult, LoadResult, Target } from '../lib/protocol.js';
import { sleep } from '../lib/ws-clients.js';

export interface KneeStep {
  target: Target;
  rate: number;
  result: LoadResult | undefined;
  /** The server under test (carechat or relay) over the step. */
  server: WindowUsage | undefined;
  generator: WindowUsage | undefined;
  sustained: boolean;
  skipped?: string;
}

/** The issue's criterion: everything arrived, and p99 under 50 ms. */
export const sustains = (r: LoadResult): boolean => r.lost === 0 && r.latency.p99 < 50;
// Far past the knee, another higher step only builds a backlog that spoils the next one.
export const saturated = (r: LoadResult): boolean =>
  r.lost > r.planned * 0.05 || r.latency.p99 > 2_000;

/** (2) Offered rate stepping up on 1,000 connections: the highest rate carechat sustains. */
export async function knee(h: Harness): Promise<Omit<ScenarioOutcome, 'name' | 'seconds'>> {
  const { pairs, rates, stepMs, drainMs } = h.plan.knee;
  return withCarechat(
    h,
    'knee',
    { pairs },
    async ({ server }) => {
      const connect = { pairs, concurrency: 50, maxFailures: 50, timeLimitMs: 120_000 };
      const conns: Record<Target, ConnectResult> = {
        relay: await h.gen.request<ConnectResult>(
          { op: 'connect', target: 'relay', endpoint: relayEndpoint(h.relay), ...connect },
          180_000,
        ),
        carechat: await h.gen.request<ConnectResult>(
          { op: 'connect', target: 'carechat', endpoint: carechatEndpoint(server), ...connect },
          180_000,
        ),
      };
      // Warm-up at the first rate, not counted: the first step should not pay for the JIT.
      for (const target of ['relay', 'carechat'] as const) {
        await h.gen.request<LoadResult>(
          {
            op: 'load',
            target,
            rate: rates[0]!,
            durationMs: h.plan.quick ? 1_000 : 3_000,
            drainMs,
          },
          drainMs + 60_000,
        );
      }
      await sleep(h.plan.quick ? 300 : 1_000);
      const steps: KneeStep[] = [];
      const stopped: Partial<Record<Target, string>> = {};
      for (const rate of rates) {
        for (const target of ['relay', 'carechat'] as const) {
          if (stopped[target]) {
            steps.push({
              target,
              rate,
              result: undefined,
              server: undefined,
              generator: undefined,
              sustained: false,
              skipped: stopped[target],
            });
            continue;
          }
          const pid = target === 'relay' ? h.relay.pid : server.pid;
          const serverRec = new ProcRecorder(pid).start();
          const genRec = new ProcRecorder(h.gen.pid).start();
          const result = await h.gen.request<LoadResult>(
            { op: 'load', target, rate, durationMs: stepMs, drainMs },
            stepMs + drainMs + 60_000,
          );
          const step: KneeStep = {
            target,
            rate,
            result,
            server: serverRec.stop(),
            generator: genRec.stop(),
            sustained: sustains(result),
          };
          steps.push(step);
          h.log(
            `knee ${target} ${rate}/s: p50 ${result.latency.p50} p99 ${result.latency.p99} lost ${result.lost} dup ${result.duplicated} cpu ${step.server?.cpuCores.toFixed(2)}`,
          );
          if (saturated(result)) stopped[target] = `saturated at ${rate}/s`;
          await sleep(h.plan.quick ? 300 : 1_000);
        }
      }
      const best = (t: Target) =>
        Math.max(0, ...steps.filter((s) => s.target === t && s.sustained).map((s) => s.rate));
      const carechatRate = best('carechat');
      const relayRate = best('relay');
      const ratio = relayRate > 0 ? carechatRate / relayRate : 0;
      const lost = steps.filter((s) => s.target === 'carechat' && (s.result?.lost ?? 0) > 0).length;
      // Server CPU per 1,000 delivered messages at the issue's reference rate (or the
      // nearest step run below it, in a smaller plan).
      const perThousand = (t: Target) => {
        const ran = steps.filter((s) => s.target === t && s.result && s.server && s.rate <= 2_000);
        const at = ran[ran.length - 1];
        if (!at?.result || !at.server || at.result.delivered === 0) return undefined;
        return { rate: at.rate, seconds: (at.server.cpuSeconds * 1000) / at.result.delivered };
      };
      const cpuC = perThousand('carechat');
      const cpuR = perThousand('relay');
      const kneeOk = relayRate > 0 && carechatRate >= 8_000 && ratio >= 0.4;
      return {
        data: { connections: conns, steps, carechatRate, relayRate, ratio, cpuC, cpuR },
        rows: [
          {
            scenario: 'knee',
            figure: `highest rate with no loss and p99 < 50 ms (${fmt.n(pairs * 2)} connections, SQLite FULL)`,
            carechat: fmt.rate(carechatRate),
            relay: fmt.rate(relayRate),
            ratio: ratioOf(carechatRate, relayRate),
            target: '≥ 8,000/s and ≥ 40% of relay',
            pass: kneeOk,
            issue: 'knee on SQLite FULL (no loss, p99 < 50 ms), 1,000 connections',
          },
          {
            scenario: 'knee',
            figure: `server CPU per 1,000 messages at ${fmt.rate(cpuC?.rate ?? 2_000)}`,
            carechat: cpuC ? `${cpuC.seconds.toFixed(3)} s` : '–',
            relay: cpuR ? `${cpuR.seconds.toFixed(3)} s` : '–',
            ratio: cpuC && cpuR ? ratioOf(cpuC.seconds, cpuR.seconds) : undefined,
            target: '≤ 0.12 s',
            pass: cpuC ? cpuC.rate === 2_000 && cpuC.seconds <= 0.12 : false,
            issue: 'server CPU per 1,000 messages at 2,000/s',
          },
          {
            scenario: 'knee',
            figure: 'steps with lost messages',
            carechat: fmt.n(lost),
            relay: fmt.n(
              steps.filter((s) => s.target === 'relay' && (s.result?.lost ?? 0) > 0).length,
            ),
            target: '',
            pass: null,
          },
        ],
      };
    },
    { profile: h.profileDir !== undefined },
  );
}
