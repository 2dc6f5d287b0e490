import type { FloorResult, LoadResult } from './protocol.js';
import { round, summarize } from './stats.js';
import { sleep, type ClientSet } from './ws-clients.js';

/** Open-loop load: message k is due at t0 + k/rate whatever happened before it. */
export async function openLoop(
  set: ClientSet,
  rate: number,
  durationMs: number,
  drainMs: number,
  withAcks = false,
): Promise<LoadResult> {
  const total = Math.round((rate * durationMs) / 1000);
  const run = set.begin(total);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now() + 50;
  const due = (k: number) => t0 + (k * 1000) / rate;
  let k = 0;
  let sent = 0;
  let lagMax = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (k < total && due(k) <= now) {
        lagMax = Math.max(lagMax, now - due(k));
        if (set.send(run, k, set.senderOf(k), due(k))) sent++;
        k++;
      }
      if (k >= total) resolve();
      else setTimeout(tick, Math.max(0, Math.floor(due(k) - performance.now())));
    };
    setTimeout(tick, 50);
  });
  const drainUntil = performance.now() + drainMs;
  while (run.delivered < sent && performance.now() < drainUntil) await sleep(20);
  // Acks trail deliveries by a moment; give them the same drain window.
  while (set.target === 'carechat' && run.acks < sent && performance.now() < drainUntil) {
    await sleep(20);
  }
  const cpu = process.cpuUsage(cpu0);
  set.end();
  const lostBySender = { patients: 0, practitioners: 0 };
  for (let i = 0; i < total; i++) {
    if (run.arrivals[i] === 0) {
      // Even client indexes are patients, odd ones practitioners (ClientSet.connect).
      if (set.senderOf(i) % 2 === 0) lostBySender.patients++;
      else lostBySender.practitioners++;
    }
  }
  return {
    rate,
    durationMs,
    planned: total,
    sent,
    delivered: run.delivered,
    lost: total - run.delivered,
    duplicated: run.duplicated,
    misrouted: run.misrouted,
    acks: run.acks,
    lostBySender,
    errors: run.errors,
    closes: run.closes,
    otherFrames: run.otherFrames,
    latency: summarize(run.latency),
    ackLatency: summarize(run.ackLatency),
    sendLagMaxMs: round(lagMax),
    generatorCpuSeconds: round((cpu.user + cpu.system) / 1e6),
    perSecond: perSecond(run.latency, rate),
    ...(withAcks ? { acked: { tag: run.tag, keys: ackedKeys(run.ackLatency) } } : {}),
  };
}

function ackedKeys(ackLatency: Float64Array): number[] {
  const keys: number[] = [];
  ackLatency.forEach((v, k) => {
    if (!Number.isNaN(v)) keys.push(k);
  });
  return keys;
}

/** p99 and worst latency of the messages due in each second: stalls show as spikes. */
function perSecond(latency: Float64Array, rate: number): { p99: number; max: number }[] {
  const out: { p99: number; max: number }[] = [];
  const step = Math.max(1, Math.round(rate));
  for (let i = 0; i < latency.length; i += step) {
    const s = summarize(latency.subarray(i, i + step));
    out.push({ p99: s.p99, max: s.max });
  }
  return out;
}

/**
 * Closed loop: one message in flight, each sent when the previous one arrived. Turns go
 * round the pairs and both directions, so no user exceeds the gateway's per-connection
 * command rate (50/s) however fast deliveries come back. With `spacingMs`, a message is
 * sent no sooner than that long after the previous one was: the processes idle between
 * messages, as they do in real conversations, instead of staying hot.
 */
export async function closedLoop(
  set: ClientSet,
  count: number,
  warmup: number,
  opts: { spacingMs?: number | undefined; pairs?: number | undefined } = {},
): Promise<FloorResult> {
  const total = count + warmup;
  const run = set.begin(total);
  const pairs = Math.min(opts.pairs ?? Infinity, Math.floor(set.clients.length / 2));
  const spacing = opts.spacingMs ?? 0;
  let lost = 0;
  let lastSentAt = -Infinity;
  for (let k = 0; k < total && lost < 10; k++) {
    if (spacing > 0) {
      const wait = lastSentAt + spacing - performance.now();
      if (wait > 0) await sleep(wait);
    }
    lastSentAt = performance.now();
    const pair = k % pairs;
    const from = 2 * pair + (Math.floor(k / pairs) % 2);
    const arrived = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 5_000);
      run.onArrive = (i) => {
        if (i !== k) return;
        clearTimeout(timer);
        resolve(true);
      };
    });
    if (!set.send(run, k, from, performance.now()) || !(await arrived)) lost++;
  }
  // Let the last acks in before closing the books.
  await sleep(50);
  set.end();
  return {
    count,
    lost,
    latency: summarize(run.latency.subarray(warmup)),
    ackLatency: summarize(run.ackLatency.subarray(warmup)),
    errors: run.errors,
    closes: run.closes,
  };
}
