import type { Latency } from './stats.js';

/** Which server the generator talks to: carechat itself, or the raw relay baseline. */
export type Target = 'carechat' | 'relay';

export interface BenchUser {
  id: string;
  /** The session token the browser would hold in its cookie. */
  token: string;
  /** The session's CSRF token, for state-changing HTTP requests (uploads). */
  csrf: string;
}

/** One patient–practitioner conversation: an accepted appointment and its room. */
export interface BenchPair {
  roomId: string;
  /** Messages already stored in the room (history scenario), so its last seq. */
  lastSeq: number;
  patient: BenchUser;
  practitioner: BenchUser;
}

/** What the seeder hands the generator (written as JSON next to the database). */
export interface SeedFile {
  pairs: BenchPair[];
  /** Password of every seeded account, so any of them can also sign in over HTTP. */
  password: string;
  emails: { patient: string; practitioner: string };
}

export interface Endpoint {
  /** ws://127.0.0.1:<port>/api/ws for carechat, ws://127.0.0.1:<port>/ for the relay. */
  wsUrl: string;
  origin: string;
  cookieName: string;
}

export type GeneratorRequest =
  | { op: 'init'; seedPath: string }
  | {
      op: 'connect';
      target: Target;
      endpoint: Endpoint;
      /** Connect the users of pairs [from, from + pairs): two sockets a pair. */
      pairs: number;
      from?: number;
      /** Practitioners connect here instead (two processes: every pair crosses them). */
      practitionerEndpoint?: Endpoint;
      /** A named set of sockets apart from the target's own (soak's churning users). */
      set?: string;
      concurrency: number;
      /** Stop early after this many failed connection attempts (capacity). */
      maxFailures: number;
      timeLimitMs: number;
    }
  | {
      op: 'floor';
      target: Target;
      count: number;
      warmup: number;
      /** Least time from one send to the next (0: send as soon as the last arrived). */
      spacingMs?: number;
      /** Take turns over only this many pairs (default: every connected pair). */
      pairs?: number;
    }
  | {
      op: 'load';
      target: Target;
      rate: number;
      durationMs: number;
      drainMs: number;
      /** Also answer which messages were acknowledged (the crash check). */
      withAcks?: boolean;
    }
  | { op: 'idle'; target: Target; durationMs: number }
  | { op: 'disconnect'; target: Target; set?: string }
  | {
      op: 'churn-start';
      endpoint: Endpoint;
      /** Pairs [from, from + pairs) connect, stay `holdMs`, close, and come back. */
      from: number;
      pairs: number;
      holdMs: number;
    }
  | { op: 'churn-stop' }
  | { op: 'poll'; baseUrl: string; pairs: number; intervalMs: number; durationMs: number }
  | { op: 'http'; baseUrl: string; requests: HttpProbe[]; warmup: number }
  | { op: 'exit' };

export interface HttpProbe {
  path: string;
  token: string;
}

export interface ConnectResult {
  attempted: number;
  connected: number;
  failed: number;
  seconds: number;
  connectsPerSecond: number;
  failures: Record<string, number>;
  /** Connections that opened but were not live (no `resumed`) within 10 s. */
  noHello: number;
}

export interface LoadResult {
  rate: number;
  durationMs: number;
  planned: number;
  sent: number;
  delivered: number;
  lost: number;
  duplicated: number;
  misrouted: number;
  acks: number;
  /** Lost messages by who sent them (two processes: patients on A, practitioners on B). */
  lostBySender: { patients: number; practitioners: number };
  errors: Record<string, number>;
  closes: Record<string, number>;
  otherFrames: Record<string, number>;
  latency: Latency;
  ackLatency: Latency;
  /** Worst delay between a message's scheduled time and the moment the generator sent it. */
  sendLagMaxMs: number;
  generatorCpuSeconds: number;
  /** By the second the messages were due in: where in the run the slow ones were. */
  perSecond: { p99: number; max: number }[];
  /** With `withAcks`: the client-id prefix of the run and the message numbers acknowledged. */
  acked?: { tag: string; keys: number[] };
}

export interface FloorResult {
  count: number;
  lost: number;
  latency: Latency;
  ackLatency: Latency;
  errors: Record<string, number>;
  closes: Record<string, number>;
}

export interface ChurnResult {
  /** Connections opened and closed again while churning. */
  cycles: number;
  opened: number;
  failed: number;
  failures: Record<string, number>;
}

export interface IdleResult {
  open: number;
  closes: Record<string, number>;
  otherFrames: Record<string, number>;
}

export interface PollResult {
  clients: number;
  requests: number;
  statuses: Record<string, number>;
  latency: Latency;
  messagesSeen: number;
}

export interface HttpResult {
  requests: number;
  statuses: Record<string, number>;
  latency: Latency;
  /** Bytes of the last answer, to show what a page weighs. */
  bodyBytes: number;
}

export type GeneratorResponse = { ok: true; result: unknown } | { ok: false; error: string };
