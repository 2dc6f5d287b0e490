import type { Logger } from 'pino';
import type { Clock } from '../domain/clock.js';
import { AdvisoryLockConnection } from '../store/advisory-lock.js';
import type { Database } from '../store/database.js';
import type { Store } from '../store/store.js';

/** Work the server does on its own, on a schedule. */
export interface Job {
  name: string;
  everyMs: number;
  run(): Promise<void>;
}

export interface SchedulerOptions {
  database: Database;
  /** The store URL: PostgreSQL takes the runner lock on a connection of its own. */
  databaseUrl: string;
  log: Logger;
  jobs?: Job[];
  /** How often a process that does not run the jobs tries to take over (and the runner checks its lock). */
  lockCheckMs?: number;
}

/**
 * Runs periodic jobs in exactly one process. On PostgreSQL the processes compete for a
 * session advisory lock on a dedicated connection (keyed by schema, so practices sharing
 * a database each get a runner); the holder runs every job on its schedule, the others
 * retry now and then and take over when the holder's connection goes away. On SQLite
 * there is only one process, and it runs the jobs. A job never overlaps with itself.
 */
export class JobScheduler {
  private readonly jobs = new Map<string, Job>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly log: Logger;
  private readonly lockCheckMs: number;
  private client: AdvisoryLockConnection | undefined;
  private lockTimer: NodeJS.Timeout | undefined;
  private leader = false;
  private stopped = true;
  private checking: Promise<void> | undefined;

  constructor(private readonly opts: SchedulerOptions) {
    this.log = opts.log.child({ component: 'jobs' });
    this.lockCheckMs = opts.lockCheckMs ?? 15_000;
    for (const job of opts.jobs ?? []) this.add(job);
  }

  /** Registers a job; it starts with the next run of the scheduler if already started. */
  add(job: Job): void {
    if (this.jobs.has(job.name)) throw new Error(`job ${job.name} is registered twice`);
    this.jobs.set(job.name, job);
    if (this.leader) this.schedule(job);
  }

  /** True while this process is the one running jobs. */
  get isRunner(): boolean {
    return this.leader;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    if (this.opts.database.dialect === 'sqlite') {
      this.becomeLeader();
      return;
    }
    const check = () => {
      this.checking ??= this.checkLock().finally(() => (this.checking = undefined));
    };
    check();
    this.lockTimer = setInterval(check, this.lockCheckMs);
    this.lockTimer.unref();
  }

  /** Runs a job now, in this process, if this process is the runner; answers whether it ran. */
  async runNow(name: string): Promise<boolean> {
    const job = this.jobs.get(name);
    if (!job || !this.leader) return false;
    await this.runJob(job);
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.lockTimer) clearInterval(this.lockTimer);
    await this.checking;
    this.stepDown();
    await Promise.all([...this.running.values()]);
    const client = this.client;
    this.client = undefined;
    if (client) {
      // Ending the session releases the advisory lock.
      await client.end().catch(() => undefined);
    }
  }

  private async checkLock(): Promise<void> {
    try {
      if (!this.client) {
        const client = new AdvisoryLockConnection(this.opts.databaseUrl, (err) => {
          if (err) this.log.warn({ err }, 'job lock connection lost');
          this.lostClient(client);
        });
        this.client = client;
        await client.connect();
      }
      if (this.leader) {
        // Still holding it? A connection that died took the lock with it.
        await this.client.check();
        return;
      }
      if ((await this.client.tryLock('carechat:jobs')) && !this.stopped) this.becomeLeader();
    } catch (err) {
      this.log.debug({ err }, 'job lock check failed; retrying');
      if (this.client) this.lostClient(this.client);
    }
  }

  private lostClient(client: AdvisoryLockConnection): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.end().catch(() => undefined);
    if (this.leader) {
      this.log.warn('lost the job runner lock; another process may take over');
      this.stepDown();
    }
  }

  private becomeLeader(): void {
    if (this.leader) return;
    this.leader = true;
    this.log.info({ jobs: [...this.jobs.keys()] }, 'this process runs the background jobs');
    for (const job of this.jobs.values()) this.schedule(job);
  }

  private stepDown(): void {
    this.leader = false;
    for (const t of this.timers.values()) clearInterval(t);
    this.timers.clear();
  }

  private schedule(job: Job): void {
    const timer = setInterval(() => void this.runJob(job), job.everyMs);
    timer.unref();
    this.timers.set(job.name, timer);
  }

  private runJob(job: Job): Promise<void> {
    const current = this.running.get(job.name);
    if (current) return current;
    const started = Date.now();
    const run = job
      .run()
      .then(
        () => this.log.debug({ job: job.name, ms: Date.now() - started }, 'job done'),
        (err: unknown) => this.log.error({ err, job: job.name }, 'job failed'),
      )
      .finally(() => this.running.delete(job.name));
    this.running.set(job.name, run);
    return run;
  }
}

/** Removes sessions past their idle or absolute lifetime, so the table does not grow forever. */
export function expiredSessionSweep(deps: {
  store: Store;
  clock: Clock;
  log: Logger;
  session: { idleMs: number; absoluteMs: number };
  everyMs?: number;
}): Job {
  return {
    name: 'expired-session-sweep',
    everyMs: deps.everyMs ?? 10 * 60_000,
    run: async () => {
      const now = deps.clock.now();
      const removed = await deps.store.sessions.deleteExpired(
        now - deps.session.idleMs,
        now - deps.session.absoluteMs,
      );
      if (removed > 0) deps.log.info({ removed }, 'expired sessions removed');
    },
  };
}

/**
 * Uploads that no message took up within a day are removed, bytes and all, and so are the
 * bytes of uploads that never reached their row.
 */
export function unattachedUploadSweep(deps: {
  attachments: { sweepUnattached(): Promise<number>; sweepUnfinished(): Promise<number> };
  log: Logger;
  everyMs?: number;
}): Job {
  return {
    name: 'unattached-upload-sweep',
    everyMs: deps.everyMs ?? 30 * 60_000,
    run: async () => {
      const removed = await deps.attachments.sweepUnattached();
      if (removed > 0) deps.log.info({ removed }, 'unattached uploads removed');
      const unfinished = await deps.attachments.sweepUnfinished();
      if (unfinished > 0) deps.log.info({ unfinished }, "unfinished uploads' bytes removed");
    },
  };
}
