/** Latency summary in milliseconds. */
export interface Latency {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export const emptyLatency: Latency = {
  count: 0,
  mean: 0,
  p50: 0,
  p90: 0,
  p99: 0,
  p999: 0,
  max: 0,
};

/** Summarises samples (sorted in place; NaN entries, meaning "never arrived", are skipped). */
export function summarize(values: Float64Array | number[]): Latency {
  const kept = Float64Array.from(values).filter((v) => !Number.isNaN(v));
  if (kept.length === 0) return { ...emptyLatency };
  kept.sort();
  let sum = 0;
  for (const v of kept) sum += v;
  const at = (q: number) => kept[Math.min(kept.length - 1, Math.ceil(q * kept.length) - 1)]!;
  return {
    count: kept.length,
    mean: round(sum / kept.length),
    p50: round(at(0.5)),
    p90: round(at(0.9)),
    p99: round(at(0.99)),
    p999: round(at(0.999)),
    max: round(kept[kept.length - 1]!),
  };
}

export const round = (v: number, digits = 3): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};
