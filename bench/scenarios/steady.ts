import {
  carechatEndpoint,
  fmt,
  ratioOf,
  relayEndpoint,
  withCarechat,
  type Harness,
  type ScenarioOutcome,
} from '../lib/harness.js';
import { ProcRecorder, sampleProc, type WindowUsage } from '../lib/proc.js';
import type { ConnectResult, Endpoint, LoadResult, Target } from '../lib/protocol.js';
import { sleep } from '../lib/ws-clients.js';

export interface SteadyRun {
  target: Target;
  connect: ConnectResult;
  rssIdleBytes: number;
  rssConnectedBytes: number;
  bytesPerConnection: number;
  /** RSS once every user has gone again after the load, settled. */
  rssAfterBytes: number;
  result: LoadResult;
  server: WindowUsage;
  generator: WindowUsage;
}

async function steadyOn(
  h: Harness,
  target: Target,
  endpoint: Endpoint,
  pid: number,
): Promise<SteadyRun> {
  const { pairs, rate, durationMs } = h.plan.steady;
  await sleep(h.plan.settleMs / 3);
  const idle = sampleProc(pid)?.rssBytes ?? 0;
  const connect = await h.gen.request<ConnectResult>(
    {
      op: 'connect',
      target,
      endpoint,
      pairs,
      concurrency: 50,
      maxFailures: 100,
      timeLimitMs: 300_000,
    },
    360_000,
  );
  await sleep(h.plan.settleMs);
  const connected = sampleProc(pid)?.rssBytes ?? 0;
  // A few seconds of the same load first, not counted: JIT and first-use costs are not steady state.
  await h.gen.request<LoadResult>(
    { op: 'load', target, rate, durationMs: h.plan.quick ? 1_000 : 5_000, drainMs: 5_000 },
    70_000,
  );
  const serverRec = new ProcRecorder(pid).start();
  const genRec = new ProcRecorder(h.gen.pid).start();
  const result = await h.gen.request<LoadResult>(
    { op: 'load', target, rate, durationMs, drainMs: 10_000 },
    durationMs + 70_000,
  );
  const server = serverRec.stop();
  const generator = genRec.stop();
  await h.gen.request({ op: 'disconnect', target }, 60_000);
  // Long enough for closed sockets' buffers to go and a scavenge to run; V8 does not hand
  // every page back at once, which is why the target allows 10 %.
  await sleep(h.plan.settleMs * 2);
  const run: SteadyRun = {
    target,
    connect,
    rssIdleBytes: idle,
    rssConnectedBytes: connected,
    bytesPerConnection: connect.connected > 0 ? (connected - idle) / connect.connected : 0,
    rssAfterBytes: sampleProc(pid)?.rssBytes ?? 0,
    result,
    server,
    generator,
  };
  h.log(
    `steady ${target}: ${connect.connected} conns, p50 ${result.latency.p50} p99 ${result.latency.p99} lost ${result.lost}, ${(run.bytesPerConnection / 1024).toFixed(1)} KiB/conn, cpu ${run.server.cpuSeconds.toFixed(1)} s, RSS idle ${(idle / 2 ** 20).toFixed(0)} → after ${(run.rssAfterBytes / 2 ** 20).toFixed(0)} MiB`,
  );
  return run;
}

const pct = (after: number, before: number): string =>
  before > 0
    ? `${after >= before ? '+' : ''}${(((after - before) / before) * 100).toFixed(1)}%`
    : '–';

function slowSeconds(r: LoadResult): string {
  const slow = r.perSecond.filter((s) => s.p99 >= 10).length;
  let worst = 0;
  r.perSecond.forEach((s, i) => {
    if (s.max > (r.perSecond[worst]?.max ?? 0)) worst = i;
  });
  const w = r.perSecond[worst];
  return `${slow} of ${r.perSecond.length}; second ${worst + 1}: ${w ? fmt.ms(w.max) : '–'}`;
}

/** (3) 10,000 connections, 1,000 msgs/s for a minute: latency, CPU, memory, drift. */
export async function steady(h: Harness): Promise<Omit<ScenarioOutcome, 'name' | 'seconds'>> {
  const { pairs, rate, durationMs } = h.plan.steady;
  return withCarechat(h, 'steady', { pairs }, async ({ server }) => {
    const carechat = await steadyOn(h, 'carechat', carechatEndpoint(server), server.pid);
    const relay = await steadyOn(h, 'relay', relayEndpoint(h.relay), h.relay.pid);
    const c = carechat.result;
    const r = relay.result;
    // Growth of RSS in the second half of the loaded minute (least-squares slope of 1 s
    // samples): what is still growing once the heap has sized itself is a leak.
    const drift = carechat.server.rssLateSlopeBytesPerMin;
    const driftShare = drift / Math.max(1, carechat.server.rssStartBytes);
    const label = `${fmt.n(pairs * 2)} connections, ${fmt.n(rate)} msgs/s, ${durationMs / 1000} s`;
    return {
      data: { carechat, relay },
      rows: [
        {
          scenario: 'steady',
          figure: `p50 / p99 (${label})`,
          carechat: `${fmt.ms(c.latency.p50)} / ${fmt.ms(c.latency.p99)}`,
          relay: `${fmt.ms(r.latency.p50)} / ${fmt.ms(r.latency.p99)}`,
          ratio: ratioOf(c.latency.p99, r.latency.p99),
          target: 'p99 < 10 ms',
          pass: c.lost === 0 && c.latency.p99 < 10,
          issue: 'steady, 10,000 connections at 1,000 msgs/s, p99',
        },
        {
          scenario: 'steady',
          figure: 'seconds whose p99 ≥ 10 ms; worst second (max latency)',
          carechat: slowSeconds(c),
          relay: slowSeconds(r),
          target: '',
          pass: null,
        },
        {
          scenario: 'steady',
          figure: 'lost / duplicated',
          carechat: `${fmt.n(c.lost)} / ${fmt.n(c.duplicated)}`,
          relay: `${fmt.n(r.lost)} / ${fmt.n(r.duplicated)}`,
          target: '0 / 0',
          pass: c.lost === 0 && c.duplicated === 0,
        },
        {
          scenario: 'steady',
          figure: 'server memory per connected user (RSS after connecting − before) / users',
          carechat: fmt.kib(carechat.bytesPerConnection),
          relay: fmt.kib(relay.bytesPerConnection),
          ratio: ratioOf(carechat.bytesPerConnection, relay.bytesPerConnection),
          target: '≤ 12 KiB',
          pass: carechat.bytesPerConnection <= 12 * 1024,
          issue: 'memory per connected user',
        },
        {
          scenario: 'steady',
          figure: 'server RSS idle (before connecting) → after the load run, users gone',
          carechat: `${fmt.mib(carechat.rssIdleBytes)} → ${fmt.mib(carechat.rssAfterBytes)} (${pct(carechat.rssAfterBytes, carechat.rssIdleBytes)})`,
          relay: `${fmt.mib(relay.rssIdleBytes)} → ${fmt.mib(relay.rssAfterBytes)} (${pct(relay.rssAfterBytes, relay.rssIdleBytes)})`,
          target: 'within 10% of idle',
          pass: carechat.rssAfterBytes <= carechat.rssIdleBytes * 1.1,
          issue: 'memory per connected user: RSS back after a load run',
        },
        {
          scenario: 'steady',
          figure: '… counted after the load instead (RSS at end − before connecting) / users',
          carechat: fmt.kib(
            (carechat.server.rssEndBytes - carechat.rssIdleBytes) /
              Math.max(1, carechat.connect.connected),
          ),
          relay: fmt.kib(
            (relay.server.rssEndBytes - relay.rssIdleBytes) / Math.max(1, relay.connect.connected),
          ),
          target: '',
          pass: null,
        },
        {
          scenario: 'steady',
          figure: 'server RSS start → end of load; slope over the second half',
          carechat: `${fmt.mib(carechat.server.rssStartBytes)} → ${fmt.mib(carechat.server.rssEndBytes)}; ${fmt.mib(drift)}/min`,
          relay: `${fmt.mib(relay.server.rssStartBytes)} → ${fmt.mib(relay.server.rssEndBytes)}; ${fmt.mib(relay.server.rssLateSlopeBytesPerMin)}/min`,
          target: 'no growth (< 2%/min)',
          pass: driftShare < 0.02,
        },
        {
          scenario: 'steady',
          figure: 'server CPU over the load (seconds; cores)',
          carechat: `${carechat.server.cpuSeconds.toFixed(1)} s; ${carechat.server.cpuCores.toFixed(2)}`,
          relay: `${relay.server.cpuSeconds.toFixed(1)} s; ${relay.server.cpuCores.toFixed(2)}`,
          target: '',
          pass: null,
        },
        {
          scenario: 'steady',
          figure: 'generator CPU over the load (seconds)',
          carechat: `${carechat.generator.cpuSeconds.toFixed(1)} s`,
          relay: `${relay.generator.cpuSeconds.toFixed(1)} s`,
          target: '',
          pass: null,
        },
      ],
    };
  });
}
