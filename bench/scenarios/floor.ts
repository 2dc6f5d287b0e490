import {
  carechatEndpoint,
  fmt,
  ratioOf,
  relayEndpoint,
  withCarechat,
  type Harness,
  type Row,
  type ScenarioOutcome,
} from '../lib/harness.js';
import type { ConnectResult, FloorResult, Target } from '../lib/protocol.js';

// One message in flight in turn across this many pairs keeps each user under the
// gateway's 50 commands/s.
const FLOOR_PAIRS = 20;
const SPACED_WARMUP = 10;

interface Spaced {
  spacingMs: number;
  carechat: FloorResult;
  relay: FloorResult;
}

/**
 * (1) One message in flight: the least a delivery costs, durable. Back to back, the next
 * message leaves as soon as the last arrived and the process never idles; spaced, one pair
 * sends a message every 50 ms or more, so timers, caches and the CPU cool down between
 * messages as they do in real conversations.
 */
export async function floor(h: Harness): Promise<Omit<ScenarioOutcome, 'name' | 'seconds'>> {
  const { count, warmup, spaced } = h.plan.floor;
  return withCarechat(h, 'floor', { pairs: FLOOR_PAIRS }, async ({ server, verified }) => {
    const connect = { pairs: FLOOR_PAIRS, concurrency: 10, maxFailures: 1, timeLimitMs: 30_000 };
    await h.gen.request<ConnectResult>(
      { op: 'connect', target: 'relay', endpoint: relayEndpoint(h.relay), ...connect },
      60_000,
    );
    const c = await h.gen.request<ConnectResult>(
      { op: 'connect', target: 'carechat', endpoint: carechatEndpoint(server), ...connect },
      60_000,
    );
    if (c.connected < 2 * FLOOR_PAIRS)
      throw new Error(`carechat refused the floor pair: ${JSON.stringify(c.failures)}`);
    const run = (target: Target, n: number, w: number, spacingMs = 0, pairs?: number) =>
      h.gen.request<FloorResult>(
        { op: 'floor', target, count: n, warmup: w, spacingMs, ...(pairs ? { pairs } : {}) },
        (n + w) * (5_000 + spacingMs) + 30_000,
      );
    const relay = await run('relay', count, warmup);
    const carechat = await run('carechat', count, warmup);
    h.log(
      `floor: carechat p50 ${carechat.latency.p50} p99 ${carechat.latency.p99}; relay p50 ${relay.latency.p50} p99 ${relay.latency.p99}`,
    );
    const spacedRuns: Spaced[] = [];
    for (const s of spaced) {
      const r = await run('relay', s.count, SPACED_WARMUP, s.spacingMs, 1);
      const cc = await run('carechat', s.count, SPACED_WARMUP, s.spacingMs, 1);
      spacedRuns.push({ spacingMs: s.spacingMs, carechat: cc, relay: r });
      h.log(
        `floor spaced ${s.spacingMs} ms: carechat p50 ${cc.latency.p50} p99 ${cc.latency.p99}; relay p50 ${r.latency.p50} p99 ${r.latency.p99}`,
      );
    }
    const lostAll = carechat.lost + spacedRuns.reduce((n, s) => n + s.carechat.lost, 0);
    const rows: Row[] = [
      {
        scenario: 'floor',
        figure: `back to back: p50 / p99, ${fmt.n(count)} messages one at a time (${FLOOR_PAIRS} pairs in turn)`,
        carechat: `${fmt.ms(carechat.latency.p50)} / ${fmt.ms(carechat.latency.p99)}`,
        relay: `${fmt.ms(relay.latency.p50)} / ${fmt.ms(relay.latency.p99)}`,
        ratio: ratioOf(carechat.latency.p99, relay.latency.p99),
        target: '',
        pass: null,
      },
      ...spacedRuns.map((s, i): Row => ({
        scenario: 'floor',
        figure: `spaced ≥ ${s.spacingMs} ms (one pair): p50 / p99, ${fmt.n(s.carechat.count)} messages`,
        carechat: `${fmt.ms(s.carechat.latency.p50)} / ${fmt.ms(s.carechat.latency.p99)}`,
        relay: `${fmt.ms(s.relay.latency.p50)} / ${fmt.ms(s.relay.latency.p99)}`,
        ratio: ratioOf(s.carechat.latency.p99, s.relay.latency.p99),
        target: '< 1 / < 2 ms',
        pass: s.carechat.lost === 0 && s.carechat.latency.p50 < 1 && s.carechat.latency.p99 < 2,
        // The issue's target is about spaced messages; the first spacing is its figure.
        issue: i === 0 ? 'floor, one message in flight, p50 / p99' : undefined,
      })),
      {
        scenario: 'floor',
        figure: 'back to back: sender ack p50 / p99 (committed)',
        carechat: `${fmt.ms(carechat.ackLatency.p50)} / ${fmt.ms(carechat.ackLatency.p99)}`,
        relay: '–',
        target: '',
        pass: null,
      },
      {
        scenario: 'floor',
        figure: 'lost (every variant)',
        carechat: fmt.n(lostAll),
        relay: fmt.n(relay.lost + spacedRuns.reduce((n, s) => n + s.relay.lost, 0)),
        target: '0',
        pass: lostAll === 0,
      },
    ];
    return { data: { verified, carechat, relay, spaced: spacedRuns }, rows };
  });
}
