import {
  carechatEndpoint,
  fmt,
  withCarechat,
  type Harness,
  type ScenarioOutcome,
} from '../lib/harness.js';
import { ProcRecorder } from '../lib/proc.js';
import type { ConnectResult, IdleResult, PollResult } from '../lib/protocol.js';
import { sleep } from '../lib/ws-clients.js';

/** One clock tick of /proc accounting: the least CPU time that can be told from none. */
const TICK_SECONDS = 0.01;

/** (6) The old way against the new: the same users polling every 5 s, or idle on WebSockets. */
export async function polling(h: Harness): Promise<Omit<ScenarioOutcome, 'name' | 'seconds'>> {
  const { pairs, intervalMs, durationMs } = h.plan.polling;
  return withCarechat(h, 'polling', { pairs }, async ({ server }) => {
    const connect = await h.gen.request<ConnectResult>(
      {
        op: 'connect',
        target: 'carechat',
        endpoint: carechatEndpoint(server),
        pairs,
        concurrency: 50,
        maxFailures: 100,
        timeLimitMs: 300_000,
      },
      360_000,
    );
    await sleep(h.plan.settleMs);
    const idleRec = new ProcRecorder(server.pid).start();
    const idle = await h.gen.request<IdleResult>(
      { op: 'idle', target: 'carechat', durationMs },
      durationMs + 30_000,
    );
    const idleUsage = idleRec.stop();
    await h.gen.request({ op: 'disconnect', target: 'carechat' }, 60_000);
    await sleep(h.plan.settleMs);

    const pollRec = new ProcRecorder(server.pid).start();
    const poll = await h.gen.request<PollResult>(
      { op: 'poll', baseUrl: server.origin, pairs, intervalMs, durationMs },
      durationMs + 60_000,
    );
    const pollUsage = pollRec.stop();
    // Polls without an answer mean the server could not keep up: the ratio is then a floor.
    const failed = Object.entries(poll.statuses)
      .filter(([status]) => status !== '200')
      .reduce((n, [, count]) => n + count, 0);
    const ratio = pollUsage.cpuSeconds / Math.max(idleUsage.cpuSeconds, TICK_SECONDS);
    const users = fmt.n(pairs * 2);
    h.log(
      `polling: idle ${idleUsage.cpuSeconds} s vs poll ${pollUsage.cpuSeconds} s (${poll.requests} requests ${JSON.stringify(poll.statuses)})`,
    );
    return {
      data: { connect, idle, idleUsage, poll, pollUsage, ratio },
      rows: [
        {
          scenario: 'polling',
          figure: `server CPU, ${users} users for ${durationMs / 1000} s: idle on WebSockets`,
          carechat: `${idleUsage.cpuSeconds.toFixed(2)} s (${idle.open} open)`,
          relay: '–',
          target: '',
          pass: null,
        },
        {
          scenario: 'polling',
          figure: `… polling every ${intervalMs / 1000} s (p99 ${fmt.ms(poll.latency.p99)}; ${pollUsage.cpuCores.toFixed(2)} cores)`,
          carechat: `${pollUsage.cpuSeconds.toFixed(2)} s (${fmt.n(poll.requests)} requests, ${fmt.n(failed)} unanswered)`,
          relay: '–',
          target: '',
          pass: null,
        },
        {
          scenario: 'polling',
          figure: 'polling CPU / idle WebSocket CPU',
          carechat:
            idleUsage.cpuSeconds < TICK_SECONDS ? `≥ ${fmt.ratio(ratio)}` : fmt.ratio(ratio),
          relay: '–',
          target: '≥ 20×',
          pass: idle.open === connect.connected && ratio >= 20,
        },
      ],
    };
  });
}
