import {
  carechatEndpoint,
  fmt,
  withCarechat,
  type Harness,
  type ScenarioOutcome,
} from '../lib/harness.js';
import { ProcRecorder, sampleProc } from '../lib/proc.js';
import type { ChurnResult, ConnectResult, LoadResult } from '../lib/protocol.js';
import type { Latency } from '../lib/stats.js';
import { sleep } from '../lib/ws-clients.js';

export interface SoakWindow {
  /** Seconds since the measured part began, at the window's end. */
  atSeconds: number;
  latency: Latency;
  lost: number;
  duplicated: number;
  rssBytes: number;
  cpuCores: number;
  /** prom-client's event-loop delay over the window (its histogram resets at each scrape). */
  eventLoopP99Ms: number | undefined;
  eventLoopMaxMs: number | undefined;
}

/** p99 and max event-loop delay since the last scrape, in ms. */
async function eventLoopLag(url: string | undefined): Promise<{ p99?: number; max?: number }> {
  if (!url) return {};
  const text = await fetch(url).then(
    (r) => (r.ok ? r.text() : ''),
    () => '',
  );
  const read = (name: string) => {
    const m = new RegExp(`^${name} ([0-9.eE+-]+)$`, 'm').exec(text);
    return m ? Math.round(Number(m[1]) * 1e6) / 1e3 : undefined;
  };
  const out: { p99?: number; max?: number } = {};
  const p99 = read('nodejs_eventloop_lag_p99_seconds');
  const max = read('nodejs_eventloop_lag_max_seconds');
  if (p99 !== undefined) out.p99 = p99;
  if (max !== undefined) out.max = max;
  return out;
}

// p99 counts as flat when the last window is within 50 % (or 2 ms) of the first.
const flat = (first: number, last: number) => last <= Math.max(first * 1.5, first + 2);

/**
 * (8) Soak: a steady rate for half an hour on some users while others sign on and off all
 * the while; memory, latency and event-loop delay sampled per window. Growth is read from
 * the first window to the last, so the warm-up of the heap is not counted against it.
 */
export async function soak(h: Harness): Promise<Omit<ScenarioOutcome, 'name' | 'seconds'>> {
  const { pairs, churnPairs, rate, durationMs, windowMs, holdMs } = h.plan.soak;
  return withCarechat(
    h,
    'soak',
    { pairs: pairs + churnPairs },
    async ({ server }) => {
      const endpoint = carechatEndpoint(server);
      // Past the start-up's transient allocations, as the steady scenario does.
      await sleep(h.plan.settleMs);
      const idleRss = sampleProc(server.pid)?.rssBytes ?? 0;
      const conn = await h.gen.request<ConnectResult>(
        {
          op: 'connect',
          target: 'carechat',
          endpoint,
          pairs,
          concurrency: 50,
          maxFailures: 50,
          timeLimitMs: 120_000,
        },
        180_000,
      );
      await h.gen.request(
        { op: 'churn-start', endpoint, from: pairs, pairs: churnPairs, holdMs },
        10_000,
      );
      await h.gen.request<LoadResult>(
        {
          op: 'load',
          target: 'carechat',
          rate,
          durationMs: h.plan.quick ? 1_000 : 5_000,
          drainMs: 5_000,
        },
        70_000,
      );
      await eventLoopLag(server.metricsUrl);
      const windows: SoakWindow[] = [];
      const started = performance.now();
      const count = Math.max(1, Math.round(durationMs / windowMs));
      for (let i = 0; i < count; i++) {
        const rec = new ProcRecorder(server.pid).start();
        const r = await h.gen.request<LoadResult>(
          { op: 'load', target: 'carechat', rate, durationMs: windowMs, drainMs: 5_000 },
          windowMs + 70_000,
        );
        const usage = rec.stop();
        const lag = await eventLoopLag(server.metricsUrl);
        const w: SoakWindow = {
          atSeconds: Math.round((performance.now() - started) / 1000),
          latency: r.latency,
          lost: r.lost,
          duplicated: r.duplicated,
          rssBytes: usage.rssEndBytes,
          cpuCores: usage.cpuCores,
          eventLoopP99Ms: lag.p99,
          eventLoopMaxMs: lag.max,
        };
        windows.push(w);
        h.log(
          `soak window ${i + 1}/${count}: p99 ${w.latency.p99} lost ${w.lost} RSS ${fmt.mib(w.rssBytes)} loop p99 ${w.eventLoopP99Ms ?? '?'} ms cpu ${w.cpuCores.toFixed(2)}`,
        );
      }
      const churn = await h.gen.request<ChurnResult>({ op: 'churn-stop' }, 120_000);
      await h.gen.request({ op: 'disconnect', target: 'carechat' }, 60_000);
      await sleep(h.plan.settleMs * 2);
      const afterRss = sampleProc(server.pid)?.rssBytes ?? 0;
      const first = windows[0]!;
      const last = windows[windows.length - 1]!;
      const growth = first.rssBytes > 0 ? (last.rssBytes - first.rssBytes) / first.rssBytes : 0;
      const lost = windows.reduce((n, w) => n + w.lost, 0);
      const dup = windows.reduce((n, w) => n + w.duplicated, 0);
      const loop = (w: SoakWindow) =>
        w.eventLoopP99Ms === undefined
          ? '–'
          : `${fmt.ms(w.eventLoopP99Ms)} (max ${fmt.ms(w.eventLoopMaxMs ?? 0)})`;
      const label = `${fmt.n(pairs * 2)} connections at ${fmt.n(rate)} msgs/s, ${fmt.n(churnPairs * 2)} more coming and going, ${(durationMs / 60_000).toFixed(1)} min in ${count} windows`;
      return {
        data: { connections: conn, churn, windows, idleRss, afterRss },
        rows: [
          {
            scenario: 'soak',
            figure: `RSS growth, first window → last (${label})`,
            carechat: `${fmt.mib(first.rssBytes)} → ${fmt.mib(last.rssBytes)} (${(growth * 100).toFixed(1)}%)`,
            relay: '–',
            target: '< 5%',
            pass: growth < 0.05,
            issue: 'soak, 30 min: RSS growth',
          },
          {
            scenario: 'soak',
            figure: 'p99, first window → last; worst window',
            carechat: `${fmt.ms(first.latency.p99)} → ${fmt.ms(last.latency.p99)}; ${fmt.ms(Math.max(...windows.map((w) => w.latency.p99)))}`,
            relay: '–',
            target: 'flat (last ≤ 1.5× first or + 2 ms)',
            pass: lost === 0 && flat(first.latency.p99, last.latency.p99),
            issue: 'soak, 30 min: p99 flat',
          },
          {
            scenario: 'soak',
            figure: 'event-loop delay p99, first window → last',
            carechat: `${loop(first)} → ${loop(last)}`,
            relay: '–',
            target: 'flat',
            pass:
              first.eventLoopP99Ms !== undefined && last.eventLoopP99Ms !== undefined
                ? flat(first.eventLoopP99Ms, last.eventLoopP99Ms)
                : null,
          },
          {
            scenario: 'soak',
            figure: 'lost / duplicated; churn cycles (connections opened, failed)',
            carechat: `${fmt.n(lost)} / ${fmt.n(dup)}; ${churn.cycles} (${fmt.n(churn.opened)}, ${fmt.n(churn.failed)})`,
            relay: '–',
            target: '0 / 0',
            pass: lost === 0 && dup === 0 && churn.failed === 0,
          },
          {
            scenario: 'soak',
            figure: 'server RSS idle → after the soak, users gone',
            carechat: `${fmt.mib(idleRss)} → ${fmt.mib(afterRss)}`,
            relay: '–',
            target: 'within 10% of idle',
            pass: idleRss > 0 && afterRss <= idleRss * 1.1,
          },
        ],
      };
    },
    { metrics: true },
  );
}
