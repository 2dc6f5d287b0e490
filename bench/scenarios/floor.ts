import {
  carechatEndpoint,
  fmt,
  relayEndpoint,
  withCarechat,
  type Harness,
  type ScenarioOutcome,
} from '../lib/harness.js';
import type { ConnectResult, FloorResult } from '../lib/protocol.js';

// One message in flight in turn across this many pairs keeps each user under the
// gateway's 50 commands/s.
const FLOOR_PAIRS = 20;

/** (1) One message in flight: the least a delivery costs, durable. */
export async function floor(h: Harness): Promise<Omit<ScenarioOutcome, 'name' | 'seconds'>> {
  const { count, warmup } = h.plan.floor;
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
    const timeout = (count + warmup) * 5_000 + 30_000;
    const relay = await h.gen.request<FloorResult>(
      { op: 'floor', target: 'relay', count, warmup },
      timeout,
    );
    const carechat = await h.gen.request<FloorResult>(
      { op: 'floor', target: 'carechat', count, warmup },
      timeout,
    );
    h.log(
      `floor: carechat p50 ${carechat.latency.p50} p99 ${carechat.latency.p99}; relay p50 ${relay.latency.p50} p99 ${relay.latency.p99}`,
    );
    const durable = carechat.lost === 0;
    return {
      data: { verified, carechat, relay },
      rows: [
        {
          scenario: 'floor',
          figure: `p50, ${fmt.n(count)} messages one at a time (${FLOOR_PAIRS} pairs in turn)`,
          carechat: fmt.ms(carechat.latency.p50),
          relay: fmt.ms(relay.latency.p50),
          target: '< 1 ms',
          pass: durable && carechat.latency.p50 < 1,
        },
        {
          scenario: 'floor',
          figure: 'p99',
          carechat: fmt.ms(carechat.latency.p99),
          relay: fmt.ms(relay.latency.p99),
          target: '< 3 ms',
          pass: durable && carechat.latency.p99 < 3,
        },
        {
          scenario: 'floor',
          figure: 'sender ack p50 / p99 (committed)',
          carechat: `${fmt.ms(carechat.ackLatency.p50)} / ${fmt.ms(carechat.ackLatency.p99)}`,
          relay: '–',
          target: '',
          pass: null,
        },
        {
          scenario: 'floor',
          figure: 'lost',
          carechat: fmt.n(carechat.lost),
          relay: fmt.n(relay.lost),
          target: '0',
          pass: carechat.lost === 0,
        },
      ],
    };
  });
}
