import { runRead, type Read } from './read.js';
import type { TransactionPipeline } from './sqlite-worker-driver.js';
import type { Kysely, Transaction } from 'kysely';
import type { Database, Dialect } from './database.js';
import type { DB } from './schema.js';
import { UserRepository } from './user-repository.js';
import { SessionRepository } from './session-repository.js';
import { AuditRepository, ChainHeadMemo } from './audit-repository.js';
import { RateLimitRepository } from './rate-limit-repository.js';
import { AppointmentRepository } from './appointment-repository.js';
import { RoomRepository } from './room-repository.js';
import { MessageRepository } from './message-repository.js';
import { FileRepository } from './file-repository.js';
import { EventRepository } from './event-repository.js';
import { AttachmentRepository } from './attachment-repository.js';
import { AttachmentLinkRepository } from './attachment-link-repository.js';
import { PushRepository } from './push-repository.js';
import { NotificationRepository } from './notification-repository.js';
import { ScopedStore, type Caller } from './scoped.js';
import { SendBatchWrites } from './send-batch-writes.js';

/** Every repository, unscoped: for privileged work that names itself by calling `store.system()`. */
export interface SystemStore {
  readonly users: UserRepository;
  readonly sessions: SessionRepository;
  readonly audit: AuditRepository;
  readonly rateLimits: RateLimitRepository;
  readonly appointments: AppointmentRepository;
  readonly rooms: RoomRepository;
  readonly messages: MessageRepository;
  readonly files: FileRepository;
  readonly attachments: AttachmentRepository;
  readonly events: EventRepository;
  readonly attachmentLinks: AttachmentLinkRepository;
  readonly push: PushRepository;
  readonly notifications: NotificationRepository;
  /** PostgreSQL: a send batch's writes in one statement. */
  readonly sendBatches: SendBatchWrites;
}

/**
 * Every repository, bound to one executor: the database, or one open transaction.
 * Accounts, sessions, the audit trail, rate limits and the outbox are reachable directly. Rooms,
 * messages, appointments, files and attachments hold health information and are reached through
 * `for(ctx)`, which answers only what that caller may see, or through `system()`, which
 * privileged code must ask for by name.
 */
export class Store {
  readonly users: UserRepository;
  readonly sessions: SessionRepository;
  readonly audit: AuditRepository;
  readonly rateLimits: RateLimitRepository;
  /** The outbox: domain events and their deliveries to processors. */
  readonly events: EventRepository;
  /** One-time links to files on ATTACHMENT_ORIGIN: credentials, not health information. */
  readonly attachmentLinks: AttachmentLinkRepository;
  /** Web Push subscriptions and the VAPID key pair: no health information. */
  readonly push: PushRepository;
  /** Notification preferences and what the last e-mail about a room covered (no content). */
  readonly notifications: NotificationRepository;
  readonly #appointments: AppointmentRepository;
  readonly #rooms: RoomRepository;
  readonly #messages: MessageRepository;
  readonly #files: FileRepository;
  readonly #attachments: AttachmentRepository;
  readonly #sendBatches: SendBatchWrites;

  readonly #chain: ChainHeadMemo;
  readonly #pipeline: TransactionPipeline | undefined;
  /** Inside a transaction: what to run once it has committed. */
  #onCommit: (() => void)[] | undefined;

  constructor(
    readonly db: Kysely<DB>,
    readonly dialect: Dialect,
    /** The audit chain's head as this process last wrote it: one per store, shared by its transactions. */
    chain: ChainHeadMemo = new ChainHeadMemo(),
    /** The SQLite writer thread's extras for its open transaction, where there is one. */
    pipeline?: TransactionPipeline,
  ) {
    this.#chain = chain;
    this.#pipeline = pipeline;
    this.users = new UserRepository(db);
    this.sessions = new SessionRepository(db);
    this.audit = new AuditRepository(db, dialect, chain);
    this.rateLimits = new RateLimitRepository(db);
    this.#appointments = new AppointmentRepository(db);
    this.#rooms = new RoomRepository(db, dialect);
    this.#messages = new MessageRepository(db);
    this.#files = new FileRepository(db);
    this.events = new EventRepository(db);
    this.notifications = new NotificationRepository(db);
    this.#attachments = new AttachmentRepository(db, dialect);
    this.attachmentLinks = new AttachmentLinkRepository(db);
    this.push = new PushRepository(db);
    this.#sendBatches = new SendBatchWrites(db);
  }

  /** The store as this caller may see it. */
  for(ctx: { actor: Caller }): ScopedStore {
    return new ScopedStore(
      { db: this.db, rooms: this.#rooms, appointments: this.#appointments, files: this.#files },
      { id: ctx.actor.id, role: ctx.actor.role },
    );
  }

  /** Every repository, unscoped. Only for work that is not done on behalf of one caller. */
  system(): SystemStore {
    return {
      users: this.users,
      sessions: this.sessions,
      audit: this.audit,
      rateLimits: this.rateLimits,
      appointments: this.#appointments,
      rooms: this.#rooms,
      messages: this.#messages,
      files: this.#files,
      attachments: this.#attachments,
      events: this.events,
      attachmentLinks: this.attachmentLinks,
      push: this.push,
      notifications: this.notifications,
      sendBatches: this.#sendBatches,
    };
  }

  /** Runs `fn` in one transaction; an audit row written inside commits or rolls back with it. */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T> {
    if (this.db.isTransaction) return fn(this);
    const onCommit: (() => void)[] = [];
    return this.db
      .transaction()
      .execute((trx: Transaction<DB>) => {
        const tx = new Store(trx, this.dialect, this.#chain, this.#pipeline);
        tx.#onCommit = onCommit;
        return fn(tx);
      })
      .then(
        (result) => {
          for (const run of onCommit) run();
          return result;
        },
        (err: unknown) => {
          // Rolled back: any head appended inside never happened.
          this.#chain.forget();
          throw err;
        },
      );
  }

  /**
   * Inside a transaction that never reads its writes' row counts: its remaining writes need
   * not be answered one by one. On the SQLite writer thread they then travel with the next
   * statement that waits for an answer, and a failure among them fails the commit
   * (sqlite-worker-driver.ts); elsewhere nothing changes.
   */
  pipelineWrites(): void {
    if (this.db.isTransaction) this.#pipeline?.pipelineWrites();
  }

  /**
   * Reads that do not depend on one another, inside a transaction, in the order given. On
   * the SQLite writer thread they cross to it together, one hop where Kysely would take
   * one each; elsewhere they run one after another (on PostgreSQL each statement is a
   * round trip either way, and in that order: a lock before what it protects).
   */
  async readTogether<T extends readonly unknown[]>(
    ...reads: { readonly [K in keyof T]: Read<T[K]> }
  ): Promise<T> {
    const pipeline = this.db.isTransaction ? this.#pipeline : undefined;
    if (!pipeline) {
      const answers: unknown[] = [];
      for (const read of reads) answers.push(await runRead(this.db, read));
      return answers as unknown as T;
    }
    const results = await pipeline.runTogether(reads.flatMap((r) => r.statements));
    let next = 0;
    return reads.map((read) =>
      read.decode(read.statements.map(() => results[next++]!.rows)),
    ) as unknown as T;
  }

  /** Runs `fn` once the transaction this store is bound to has committed; at once outside one. */
  afterCommit(fn: () => void): void {
    if (this.#onCommit) this.#onCommit.push(fn);
    else fn();
  }

  /**
   * Empties every table (demo reset), children before parents. The audit trail is
   * append-only, so it goes by its one named privileged path, and the new chain's first
   * row says that a reset happened and which head it replaced.
   */
  async resetAll(at: number = Date.now()): Promise<void> {
    await this.transaction(async (tx) => {
      for (const table of [
        'event_deliveries',
        'events',
        'attachment_links',
        'notification_state',
        'notification_preferences',
        'attachment_chunks',
        'blob_intents',
        'attachments',
        'messages',
        'room_members',
        'rooms',
        'appointments',
        'push_subscriptions',
        'sessions',
        'rate_limits',
      ] as const) {
        await tx.db.deleteFrom(table).execute();
      }
      await tx.audit.resetChain(at);
      await tx.db.updateTable('users').set({ photo_file_id: null }).execute();
      await tx.db.deleteFrom('users').execute();
      await tx.db.deleteFrom('files').execute();
    });
  }

  static from(database: Database): Store {
    return new Store(database.db, database.dialect, undefined, database.pipeline);
  }
}
