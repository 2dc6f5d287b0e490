import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Telemetry, Transport } from '../domain/telemetry.js';
import type { OutboxProcessorWire } from '../shared/outbox.js';

/** Seconds: from a fast in-memory answer to a slow export. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds: one durable commit costs about an fsync, so the interesting part is below 50 ms. */
const COMMIT_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];
/** Sends per group commit, up to the writer's limit of 1,000. */
const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];
/** Seconds: an outbox event may wait for a retry, so the range reaches minutes. */
const OUTBOX_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900];

const TRANSPORTS: readonly Transport[] = ['ws', 'sse'];

interface Metrics {
  registry: Registry;
  /** Handed to the domain (Deps) and the gateway; feeds the metrics below. */
  telemetry: Telemetry;
  /** Times every HTTP request of this app by its route pattern and status. */
  observeHttp(app: FastifyInstance): void;
  /** Reads the read-audit writer's backlog at each scrape. */
  observeAuditQueue(pending: () => number): void;
  /** Reads the outbox's backlog per processor from the store at each scrape. */
  observeOutbox(summary: () => Promise<OutboxProcessorWire[]>, now: () => number): void;
}

/**
 * Prometheus metrics for one app: a registry of its own (several apps may share a
 * process in tests), the process metrics prom-client collects by default, and carechat's.
 */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const http = new Histogram({
    name: 'carechat_http_request_duration_seconds',
    help: 'HTTP requests by route pattern (never the raw URL, which holds ids) and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const connections = new Gauge({
    name: 'carechat_realtime_connections',
    help: 'Live connections of this process, by transport (ws: WebSocket, sse: event stream)',
    labelNames: ['transport'] as const,
    registers,
  });
  // Present from the first scrape, so a dashboard shows 0 rather than no data.
  for (const transport of TRANSPORTS) connections.set({ transport }, 0);
  const committed = new Counter({
    name: 'carechat_messages_committed_total',
    help: 'Messages stored (a re-send of a known client id is not counted again)',
    registers,
  });
  const batchSize = new Histogram({
    name: 'carechat_message_commit_batch_size',
    help: 'Sends written together in one group commit',
    buckets: BATCH_BUCKETS,
    registers,
  });
  const commitDuration = new Histogram({
    name: 'carechat_message_commit_duration_seconds',
    help: 'Time in the transaction of one group commit of sends',
    buckets: COMMIT_BUCKETS,
    registers,
  });
  const deliveryLag = new Histogram({
    name: 'carechat_message_delivery_lag_seconds',
    help: 'From a message commit to its frame written to a live connection (replays after a reconnect not counted)',
    labelNames: ['transport'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  let auditPending: () => number = () => 0;
  new Gauge({
    name: 'carechat_audit_queue_depth',
    help: 'Read-audit rows waiting to be stored (each holds back the answer to one read)',
    registers,
    collect() {
      this.set(auditPending());
    },
  });
  const outboxLag = new Histogram({
    name: 'carechat_outbox_lag_seconds',
    help: 'From an outbox event commit to its delivery done by a processor',
    labelNames: ['processor'] as const,
    buckets: OUTBOX_BUCKETS,
    registers,
  });
  const outboxFailures = new Counter({
    name: 'carechat_outbox_failures_total',
    help: 'Outbox processor failures; dead="true" when it was the last attempt (listed under Admin, Outbox)',
    labelNames: ['processor', 'dead'] as const,
    registers,
  });
  // The backlog is the store's, read once per scrape for all three gauges (they are
  // collected together); on PostgreSQL every process reports the same numbers.
  let outboxSummary: (() => Promise<OutboxProcessorWire[]>) | undefined;
  let outboxNow: () => number = Date.now;
  let reading: Promise<OutboxProcessorWire[] | undefined> | undefined;
  const readOutbox = () =>
    (reading ??= (outboxSummary?.() ?? Promise.resolve(undefined))
      // A store that cannot be read leaves the gauges empty, not the whole scrape failed.
      .catch(() => undefined)
      .finally(() => (reading = undefined)));
  const outboxGauge = (
    name: string,
    help: string,
    value: (p: OutboxProcessorWire, now: number) => number,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ['processor'] as const,
      registers,
      async collect() {
        const summary = await readOutbox();
        this.reset();
        const now = outboxNow();
        for (const p of summary ?? []) this.set({ processor: p.processor }, value(p, now));
      },
    });
  outboxGauge(
    'carechat_outbox_pending',
    'Outbox deliveries waiting for their processor',
    (p) => p.pending,
  );
  outboxGauge(
    'carechat_outbox_dead',
    'Outbox deliveries out of attempts, waiting for an admin to retry them',
    (p) => p.dead,
  );
  outboxGauge(
    'carechat_outbox_oldest_pending_age_seconds',
    'Age of the oldest outbox delivery still waiting (0 when none waits)',
    (p, now) =>
      p.oldestPendingAt === null ? 0 : Math.max(0, now - Date.parse(p.oldestPendingAt)) / 1000,
  );

  const telemetry: Telemetry = {
    messagesCommitted: (batch, created, ms) => {
      committed.inc(created);
      batchSize.observe(batch);
      commitDuration.observe(ms / 1000);
    },
    connectionOpened: (transport) => connections.inc({ transport }),
    connectionClosed: (transport) => connections.dec({ transport }),
    // Clocks of two processes may disagree by a little; a negative lag is none.
    messageDelivered: (transport, lagMs) =>
      deliveryLag.observe({ transport }, Math.max(0, lagMs) / 1000),
    outbox: {
      processed: (processor, lags) => {
        for (const lagMs of lags) outboxLag.observe({ processor }, Math.max(0, lagMs) / 1000);
      },
      failed: (processor, dead) => outboxFailures.inc({ processor, dead: String(dead) }),
    },
  };

  return {
    registry,
    telemetry,
    observeHttp: (app) => {
      // The WebSocket upgrade and the event stream take their reply over (hijack) and never
      // reach onResponse: they are counted as connections, not as request durations.
      app.addHook('onResponse', async (request, reply) => {
        http.observe(
          {
            method: request.method,
            // Unknown paths share one label, so probing cannot grow the series without bound.
            route: request.routeOptions.url ?? 'unmatched',
            status: String(reply.statusCode),
          },
          reply.elapsedTime / 1000,
        );
      });
    },
    observeAuditQueue: (pending) => {
      auditPending = pending;
    },
    observeOutbox: (summary, now) => {
      outboxSummary = summary;
      outboxNow = now;
    },
  };
}

interface MetricsServer {
  /** e.g. http://127.0.0.1:9464 */
  url: string;
  close(): Promise<void>;
}

/**
 * `GET /metrics` on a listener of its own (METRICS_HOST:METRICS_PORT), never on the
 * public port: what the practice's monitoring scrapes need not be reachable by patients.
 */
export async function startMetricsServer(
  metrics: Metrics,
  opts: { host: string; port: number; log: Logger },
): Promise<MetricsServer> {
  const app = Fastify({
    loggerInstance: opts.log.child({ part: 'metrics' }),
    // A scrape every few seconds is not news.
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;
  app.get('/metrics', async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
  const url = await app.listen({ host: opts.host, port: opts.port });
  return { url, close: () => app.close() };
}
