/** How big each scenario runs: the figures, or a ~1-minute smoke subset. */
export interface Plan {
  quick: boolean;
  /** Pause after connecting before memory is read, so the last handshakes have settled. */
  settleMs: number;
  /** Back to back (the process stays hot), then one pair with messages spaced apart. */
  floor: { count: number; warmup: number; spaced: { spacingMs: number; count: number }[] };
  knee: { pairs: number; rates: number[]; stepMs: number; drainMs: number };
  steady: { pairs: number; rate: number; durationMs: number };
  /** Undefined: as many as the process's file limit allows. */
  capacity: { maxConnections: number | undefined };
  history: { rooms: number; practitioners: number; perRoom: number; requests: number };
  polling: { pairs: number; intervalMs: number; durationMs: number };
  /** Two carechat processes on PostgreSQL + Redis, every pair crossing them. */
  twoProcesses: { pairs: number; rates: number[]; stepMs: number; drainMs: number };
  /** A steady rate on `pairs` while `churnPairs` more sign on and off; figures per window. */
  soak: {
    pairs: number;
    churnPairs: number;
    rate: number;
    durationMs: number;
    windowMs: number;
    /** How long each half of the churning users stays connected before leaving. */
    holdMs: number;
  };
  /** kill -9 half-way through an open-loop run, restart, check history against the acks. */
  crash: { pairs: number; rate: number; durationMs: number };
  /** Steady traffic in some rooms while other users upload large files. */
  uploads: {
    pairs: number;
    rate: number;
    durationMs: number;
    uploaders: number;
    fileBytes: number;
  };
}

export const fullPlan: Plan = {
  quick: false,
  settleMs: 3_000,
  floor: {
    count: 5_000,
    warmup: 200,
    spaced: [
      { spacingMs: 50, count: 1_000 },
      { spacingMs: 200, count: 250 },
    ],
  },
  knee: {
    pairs: 500,
    rates: [1_000, 2_000, 5_000, 10_000, 20_000],
    stepMs: 15_000,
    drainMs: 10_000,
  },
  steady: { pairs: 5_000, rate: 1_000, durationMs: 60_000 },
  capacity: { maxConnections: undefined },
  // 2,000 rooms × 500 = 1,000,000 messages; 40 practitioners with 50 rooms each.
  history: { rooms: 2_000, practitioners: 40, perRoom: 500, requests: 2_000 },
  polling: { pairs: 5_000, intervalMs: 5_000, durationMs: 30_000 },
  twoProcesses: {
    pairs: 500,
    rates: [500, 1_000, 2_000, 3_000, 5_000, 8_000],
    stepMs: 15_000,
    drainMs: 10_000,
  },
  soak: {
    pairs: 1_000,
    churnPairs: 500,
    rate: 1_000,
    durationMs: 30 * 60_000,
    windowMs: 60_000,
    holdMs: 20_000,
  },
  crash: { pairs: 500, rate: 2_000, durationMs: 10_000 },
  uploads: { pairs: 500, rate: 1_000, durationMs: 30_000, uploaders: 3, fileBytes: 10 * 2 ** 20 },
};

export const quickPlan: Plan = {
  quick: true,
  settleMs: 600,
  floor: { count: 1_000, warmup: 100, spaced: [{ spacingMs: 50, count: 40 }] },
  knee: { pairs: 100, rates: [500, 1_000, 2_000], stepMs: 2_000, drainMs: 2_000 },
  steady: { pairs: 300, rate: 300, durationMs: 4_000 },
  capacity: { maxConnections: 1_000 },
  history: { rooms: 200, practitioners: 10, perRoom: 250, requests: 300 },
  polling: { pairs: 300, intervalMs: 5_000, durationMs: 6_000 },
  twoProcesses: { pairs: 50, rates: [100, 300], stepMs: 2_000, drainMs: 5_000 },
  // Only with --scenario soak: the quick subset leaves the soak out.
  soak: {
    pairs: 100,
    churnPairs: 50,
    rate: 200,
    durationMs: 60_000,
    windowMs: 10_000,
    holdMs: 3_000,
  },
  crash: { pairs: 100, rate: 500, durationMs: 3_000 },
  uploads: { pairs: 100, rate: 300, durationMs: 5_000, uploaders: 1, fileBytes: 10 * 2 ** 20 },
};
