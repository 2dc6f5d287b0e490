import type { Logger } from 'pino';
import type { Bus } from '../bus/bus.js';
import { AccountService } from '../domain/accounts.js';
import { AuthService } from '../domain/auth.js';
import { SendLimiter } from '../domain/send-limit.js';
import { PhotoService } from '../domain/photos.js';
import { rateCellsFor } from '../bus/rate-cells.js';
import { presenceFor, type PresenceStore } from '../bus/presence-store.js';
import { pushProcessor } from '../domain/notifications/push-processor.js';
import {
  KNOWN_PUSH_SERVICES,
  PushSubscriptions,
} from '../domain/notifications/push-subscriptions.js';
import { webPushSender, type VapidKeys } from '../domain/notifications/web-push-sender.js';
import { AuditWriter } from '../domain/audit-writer.js';
import { loadCheckpointSigner, type CheckpointSigner } from '../domain/audit/checkpoint.js';
import { AccessDenials } from '../domain/audit/denied.js';
import { AuditIntegrityService } from '../domain/audit/integrity.js';
import { AppointmentService } from '../domain/appointments.js';
import { MessageFeed } from '../domain/conversations/feed.js';
import { MessageService } from '../domain/messages.js';
import { DashboardService, type Dashboard } from '../domain/dashboard.js';
import type { Ctx } from '../domain/context.js';
import { RoomService } from '../domain/rooms.js';
import type { Clock } from '../domain/clock.js';
import type { Deps } from '../domain/deps.js';
import type { ScryptParams } from '../domain/passwords.js';
import {
  defaultOutboxSettings,
  OutboxDispatcher,
  type OutboxObserver,
  type OutboxSettings,
} from '../domain/events/dispatcher.js';
import { liveWakeups } from '../domain/events/live-processor.js';
import { Outbox } from '../domain/events/outbox.js';
import { OutboxAdmin } from '../domain/events/outbox-admin.js';
import { ProcessorRegistry, type Processor } from '../domain/events/processor.js';
import { noTelemetry, type Telemetry } from '../domain/telemetry.js';
import type { Database } from '../store/database.js';
import { Store } from '../store/store.js';
import { AttachmentService } from '../domain/attachments/attachments.js';
import { KeyRing } from '../domain/attachments/file-crypto.js';
import { AttachmentLinks } from '../domain/attachments/links.js';
import { openBlobStorage, type BlobStorage } from '../store/blob-storage.js';
import {
  notificationPreferences,
  NotificationPreferencesService,
} from '../domain/notifications/preferences.js';
import type { Config } from './config.js';

/** The server's parts, built once and handed to routes and the real-time gateway. */
export interface Services {
  config: Config;
  database: Database;
  store: Store;
  bus: Bus;
  clock: Clock;
  log: Logger;
  deps: Deps;
  auth: AuthService;
  accounts: AccountService;
  appointments: AppointmentService;
  rooms: RoomService;
  messages: MessageService;
  /** Message history, for HTTP pages and live replays alike: checked, paged, audited. */
  feed: MessageFeed;
  /** One budget per user for sending messages, over HTTP and the WebSocket alike. */
  sendLimit: SendLimiter;
  photos: PhotoService;
  dashboard: (ctx: Ctx) => Promise<Dashboard>;
  outbox: { registry: ProcessorRegistry; dispatcher: OutboxDispatcher; admin: OutboxAdmin };
  /** Refused requests, written to the trail as access.denied (throttled). */
  denials: AccessDenials;
  auditSigner: CheckpointSigner;
  auditIntegrity: AuditIntegrityService;
  attachments: AttachmentService;
  /** Set with ATTACHMENT_ORIGIN: one-time links to files served there. */
  attachmentLinks: AttachmentLinks | undefined;
  /** Where attachment bytes live (STORAGE_URL). */
  blobs: BlobStorage;
  /** Live connections per user across processes: the gateway counts, push asks. */
  presence: PresenceStore;
  push: { subscriptions: PushSubscriptions; vapidPublicKey: string };
  notifications: { preferences: NotificationPreferencesService };
}

export function buildServices(opts: {
  config: Config;
  database: Database;
  bus: Bus;
  clock: Clock;
  log: Logger;
  passwordParams: ScryptParams;
  /** Processors besides the built-in ones (tests add their own). */
  processors?: readonly Processor[] | undefined;
  outbox?: Partial<OutboxSettings> | undefined;
  outboxObserver?: OutboxObserver | undefined;
  telemetry?: Telemetry;
  vapid: VapidKeys;
}): Services {
  const store = Store.from(opts.database);
  const presence = presenceFor(opts.bus, { log: opts.log });
  const registry = new ProcessorRegistry([
    // Across processes the wake-up can be lost between commit and publish (a crash, Redis
    // down), and this repeats it from the outbox. One process's bus cannot lose it: the
    // publish happens in the commit's turn, and a crash takes every connection with it
    // (each resumes from the store). There it would cost a delivery, a dispatch and a
    // settle per message for nothing.
    ...(opts.bus.mode === 'redis' ? [liveWakeups(opts.bus)] : []),
    pushProcessor({
      deps: { store, clock: opts.clock, log: opts.log },
      sender: webPushSender(opts.vapid),
      liveConnections: (ids) => presence.counts(ids),
      pushWanted: async (userId) => (await notificationPreferences(store, userId)).push,
      practiceName: opts.config.practiceName,
    }),
    ...(opts.processors ?? []),
  ]);
  const readAudit = new AuditWriter(store);
  const deps: Deps = {
    store,
    readAudit,
    outbox: new Outbox(registry),
    clock: opts.clock,
    bus: opts.bus,
    log: opts.log,
    telemetry: opts.telemetry ?? noTelemetry,
    passwordParams: opts.passwordParams,
    session: { idleMs: opts.config.sessionIdleMs, absoluteMs: opts.config.sessionAbsoluteMs },
    loginLimits: {
      perAccount: opts.config.loginMaxPerAccount,
      perIp: opts.config.loginMaxPerIp,
      windowMs: opts.config.loginWindowMs,
    },
    roomOpenMs: opts.config.roomOpenMs,
  };
  const rooms = new RoomService(deps);
  const appointments = new AppointmentService(deps);
  const dashboard = new DashboardService(deps, appointments);
  const messages = new MessageService(deps);
  const dispatcher = new OutboxDispatcher({
    store,
    clock: opts.clock,
    log: opts.log,
    registry,
    settings: {
      ...defaultOutboxSettings,
      maxAttempts: opts.config.outboxMaxAttempts,
      retentionMs: opts.config.outboxRetentionMs,
      ...opts.outbox,
    },
    observer: opts.outboxObserver ?? deps.telemetry.outbox,
  });
  const auditSigner = loadCheckpointSigner({
    signingKey: opts.config.auditSigningKey,
    databaseUrl: opts.config.databaseUrl,
  });
  if (auditSigner.source === 'ephemeral') {
    opts.log.warn(
      'AUDIT_SIGNING_KEY is not set and no key file could be written: audit checkpoints signed by this process will not verify after it restarts',
    );
  }
  const blobs = openBlobStorage(opts.config.attachments.storageUrl, opts.database.db);
  const keys = new KeyRing(
    opts.config.attachments.dataKey,
    opts.config.attachments.previousDataKeys,
  );
  const attachments = new AttachmentService(deps, blobs, keys, {
    maxBytes: opts.config.attachments.maxBytes,
    dailyBytes: opts.config.attachments.dailyBytes,
  });
  const attachmentOrigin = opts.config.attachments.origin;
  return {
    ...opts,
    store,
    deps,
    auth: new AuthService(deps),
    accounts: new AccountService(deps),
    appointments,
    rooms,
    messages,
    feed: new MessageFeed(deps, messages.deliveries),
    photos: new PhotoService(deps),
    sendLimit: new SendLimiter(rateCellsFor(opts.bus, opts.log), opts.clock, opts.config.sendRate),
    dashboard: (ctx) => dashboard.get(ctx),
    outbox: { registry, dispatcher, admin: new OutboxAdmin(deps, registry) },
    denials: new AccessDenials(readAudit, opts.clock, opts.config.auditDeniedPerMinute),
    auditSigner,
    auditIntegrity: new AuditIntegrityService(deps, auditSigner),
    blobs,
    presence,
    push: {
      subscriptions: new PushSubscriptions(deps, {
        allowHttpLoopback: opts.config.push.allowHttpLoopback,
        serviceHosts: opts.config.push.serviceHosts ?? KNOWN_PUSH_SERVICES,
      }),
      vapidPublicKey: opts.vapid.publicKey,
    },
    notifications: { preferences: new NotificationPreferencesService(deps) },
    attachments,
    attachmentLinks: attachmentOrigin
      ? new AttachmentLinks(deps, attachments, attachmentOrigin)
      : undefined,
  };
}
