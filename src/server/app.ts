import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import Fastify, {
  LogController,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import fastifyCookie from '@fastify/cookie';
import fastifyRateLimit from '@fastify/rate-limit';
import { serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { Bus } from '../bus/bus.js';
import { createBus, rateLimitStore } from '../bus/redis-bus.js';
import { systemClock, type Clock } from '../domain/clock.js';
import { AppError } from '../domain/errors.js';
import type { OutboxObserver, OutboxSettings } from '../domain/events/dispatcher.js';
import { outboxJobs } from '../domain/events/outbox-jobs.js';
import type { Processor } from '../domain/events/processor.js';
import { OWASP_SCRYPT, type ScryptParams } from '../domain/passwords.js';
import { migrateToLatest, openDatabase, type Database } from '../store/database.js';
import { Store } from '../store/store.js';
import { resolveVapidKeys } from '../domain/notifications/vapid.js';
import { KeyRing } from '../domain/attachments/file-crypto.js';
import type { Config } from './config.js';
import { adminRoutes } from './http/admin/admin.routes.js';
import { adminRoomsRoutes } from './http/admin/admin-rooms.routes.js';
import { adminOutboxRoutes } from './http/admin/outbox.routes.js';
import { adminAuditRoutes } from './http/admin/admin-audit.routes.js';
import { auditAnchorJob } from './audit-jobs.js';
import { authRoutes } from './http/auth/auth.routes.js';
import { filesRoutes } from './http/files.routes.js';
import { appointmentsRoutes } from './http/appointments/appointments.routes.js';
import { roomsRoutes } from './http/rooms/rooms.routes.js';
import { Gateway, defaultGatewayOptions, type GatewayOptions } from './realtime/gateway.js';
import { realtimeRoutes, registerWebsocketPlugin } from './realtime/realtime.routes.js';
import { asyncApiRoutes } from './realtime/asyncapi.js';
import { registerDocs } from './http/docs.js';
import { healthRoutes } from './http/health.routes.js';
import { registerErrorHandling, sendProblem } from './http/problem.js';
import { registerSecurity } from './http/security.js';
import { registerWeb } from './http/web.routes.js';
import { buildServices, type Services } from './services.js';
import { expiredSessionSweep, JobScheduler, unattachedUploadSweep } from './jobs.js';
import { createMetrics, startMetricsServer } from './metrics.js';
import { attachmentsRoutes } from './http/attachments/attachments.routes.js';
import { pushRoutes } from './http/push/push.routes.js';
import { notificationsRoutes } from './http/notifications/notifications.routes.js';
import { registerOfflineEmail } from './notifications.js';

export interface AppOptions {
  config: Config;
  database?: Database;
  bus?: Bus;
  clock?: Clock;
  logger?: Logger;
  /** Tests may lower the cost for fixture accounts; production always uses OWASP's. */
  passwordParams?: ScryptParams;
  gateway?: Partial<GatewayOptions>;
  /** Outbox processors besides the built-in ones, and settings tests shorten. */
  processors?: readonly Processor[];
  outbox?: Partial<OutboxSettings>;
  /** Told of every processed and failed delivery (metrics). */
  outboxObserver?: OutboxObserver;
}

export interface App {
  app: FastifyInstance;
  services: Services;
  gateway: Gateway;
  /** Background jobs; register more with `jobs.add`. One process runs them (see jobs.ts). */
  jobs: JobScheduler;
  /** The metrics listener's address when METRICS_PORT is set (`${metricsUrl}/metrics`). */
  metricsUrl: string | undefined;
  close: () => Promise<void>;
}

/** How long shutdown waits for HTTP requests in flight before it closes their connections. */
const SHUTDOWN_GRACE_MS = 5000;

// Paths in logs carry ids only; query strings and bodies are never logged.
const redact = [
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
];

/**
 * JSON lines for log collectors; readable lines (pino-pretty, in the same thread so nothing
 * is lost at exit) when a person watches the terminal.
 */
export function createLogger(
  config: Pick<Config, 'logLevel'>,
  opts: { pretty?: boolean; destination?: DestinationStream } = {},
): Logger {
  const options = {
    level: config.logLevel,
    redact,
    serializers: {
      // The path only: a query string (a search, say) may carry health terms.
      req: (req: { method: string; url: string; ip?: string }) => ({
        method: req.method,
        path: req.url.split('?')[0],
        ip: req.ip,
      }),
    },
  };
  if (!(opts.pretty ?? process.stdout.isTTY))
    return opts.destination ? pino(options, opts.destination) : pino(options);
  return pino(
    options,
    pretty({
      sync: true,
      translateTime: 'SYS:HH:MM:ss',
      ignore: 'pid,hostname',
      ...(opts.destination ? { destination: opts.destination } : {}),
    }),
  );
}

/**
 * One line per request, at debug, instead of Fastify's two at info: at the default level
 * the terminal of a running practice shows what happened, not every page load and poll.
 * A request that fails is still logged at error.
 */
class QuietRequestLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(
    error: Error | null | undefined,
    request: FastifyRequest,
    reply: FastifyReply,
  ): void {
    if (error) return super.requestCompleted(error, request, reply);
    reply.log.debug(
      { req: request, res: reply, responseTime: reply.elapsedTime },
      'request completed',
    );
  }
}

export async function buildApp(opts: AppOptions): Promise<App> {
  const { config } = opts;
  const log = opts.logger ?? createLogger(config);
  const database =
    opts.database ??
    openDatabase(config.databaseUrl, {
      poolSize: config.databasePoolSize,
      writerThread: config.sqliteWriterThread,
    });
  await migrateToLatest(database);
  const clock = opts.clock ?? systemClock;
  // Before anything else is opened: a sealed key this process cannot open ends the start here.
  const vapid = await resolveVapidKeys(
    Store.from(database),
    clock,
    config.push,
    new KeyRing(config.attachments.dataKey, config.attachments.previousDataKeys),
  ).catch(async (err: unknown) => {
    if (!opts.database) await database.close();
    throw err;
  });
  const bus =
    opts.bus ??
    (await createBus({
      redisUrl: config.redisUrl,
      prefix: config.redisPrefix,
      dialect: database.dialect,
      log,
    }));
  // Nothing is measured unless something will read it.
  const metrics = config.metricsPort === undefined ? undefined : createMetrics();
  const services = buildServices({
    telemetry: metrics?.telemetry,
    config,
    database,
    bus,
    clock,
    log,
    vapid,
    passwordParams: opts.passwordParams ?? OWASP_SCRYPT,
    processors: opts.processors,
    outbox: opts.outbox,
    outboxObserver: opts.outboxObserver,
  });

  const app = Fastify({
    loggerInstance: log,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    logController: new QuietRequestLog(),
    trustProxy: config.trustProxy,
    bodyLimit: 256 * 1024,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  }) as unknown as FastifyInstance;

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  metrics?.observeHttp(app);
  metrics?.observeAuditQueue(() => services.deps.readAudit.pending);
  metrics?.observeOutbox(
    () => services.outbox.admin.processors(),
    () => services.clock.now(),
  );

  await app.register(fastifyCookie);
  await app.register(fastifyRateLimit, { global: false, ...rateLimitStore(bus) });
  await registerDocs(app, config);
  registerErrorHandling(app, (request, refused) =>
    services.denials.record(
      {
        actor: request.auth ? { id: request.auth.user.id, role: request.auth.user.role } : null,
        ip: request.ip,
      },
      refused,
    ),
  );
  // Each process throttles its own refusals; each writes what it held back.
  const deniedFlush = setInterval(() => {
    services.denials.flush().catch((err: unknown) => log.warn({ err }, 'access.denied flush'));
  }, 60_000);
  deniedFlush.unref();
  registerSecurity(app, config, services.auth);

  // Rate limited together with the admin area's answers to non-admins (security.ts).
  app.setNotFoundHandler({ preHandler: app.probeLimit }, (request, reply) =>
    sendProblem(reply, new AppError('not_found', 'Not found')),
  );

  await app.register(healthRoutes(services));
  await app.register(authRoutes(services));
  await app.register(adminRoutes(services));
  await app.register(adminRoomsRoutes(services));
  await app.register(adminOutboxRoutes(services));
  await app.register(adminAuditRoutes(services));
  await app.register(filesRoutes(services));
  await app.register(appointmentsRoutes(services));
  await app.register(roomsRoutes(services));
  await app.register(attachmentsRoutes(services));
  await app.register(pushRoutes(services));
  await app.register(notificationsRoutes(services));
  const gateway = new Gateway(services, { ...defaultGatewayOptions, ...opts.gateway });
  const mailer = registerOfflineEmail(services, (userId) => gateway.isOnline(userId));
  await registerWebsocketPlugin(app);
  await app.register(realtimeRoutes(services, gateway));
  await app.register(asyncApiRoutes(config));
  registerWeb(app, config.webRoot ?? fileURLToPath(new URL('../../dist/web', import.meta.url)));

  await app.ready();
  const metricsServer =
    metrics && config.metricsPort !== undefined
      ? await startMetricsServer(metrics, {
          host: config.metricsHost,
          port: config.metricsPort,
          log,
        })
      : undefined;
  const jobs = new JobScheduler({
    database,
    databaseUrl: config.databaseUrl,
    log,
    jobs: [
      expiredSessionSweep(services.deps),
      auditAnchorJob({
        store: services.store,
        signer: services.auditSigner,
        clock: services.clock,
        log,
        everyMs: config.auditAnchorMs,
      }),
      unattachedUploadSweep({ attachments: services.attachments, log }),
    ],
  });
  // Processors run after commit, in the one process that holds the runner lock.
  for (const job of outboxJobs({
    dispatcher: services.outbox.dispatcher,
    registry: services.outbox.registry,
    log,
    active: () => jobs.isRunner,
  }))
    jobs.add(job);
  jobs.start();
  return {
    app,
    services,
    gateway,
    jobs,
    metricsUrl: metricsServer?.url,
    close: async () => {
      clearInterval(deniedFlush);
      await metricsServer?.close();
      await jobs.stop();
      // Live clients hear 1001 (going away) and reconnect, to this process's successor.
      await gateway.shutdown();
      // Waits for HTTP requests in flight, for a few seconds at most: a connection a browser
      // opened as a spare and never used counts as busy to Node, and would hold the close
      // until it times out. Cutting a slow request loses only its answer (the writers below
      // still commit it; the client retries by client id).
      const force = setTimeout(() => app.server.closeAllConnections(), SHUTDOWN_GRACE_MS);
      await app.close();
      clearTimeout(force);
      // Sends and audit rows already accepted (from sockets, too) are committed before the
      // store closes.
      await services.messages.writer.drain();
      await services.deps.readAudit.drain();
      await services.messages.deliveries.close();
      await bus.close();
      await services.blobs.close();
      await services.attachments.close();
      mailer?.close();
      if (!opts.database) await database.close();
    },
  };
}
