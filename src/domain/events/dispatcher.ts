import type { Logger } from 'pino';
import type { Store } from '../../store/store.js';
import type { DeliveryFailure } from '../../store/event-repository.js';
import type { Clock } from '../clock.js';
import type { DomainEvent } from './events.js';
import { PermanentFailure, type ProcessorRegistry } from './processor.js';

export interface OutboxSettings {
  /** Attempts before a delivery is dead (a processor may set its own). */
  maxAttempts: number;
  /** Delay after the first failure; it doubles with each further one, up to backoffMaxMs. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Deliveries read per round; a full round is followed by another at once. */
  batchSize: number;
  /** How often each processor looks for due work. */
  pollMs: number;
  /**
   * SQLite: how often a processor looks when nothing was committed for it in this
   * process and nothing it knows of comes due (see `OutboxDispatcher.run`). PostgreSQL
   * looks every `pollMs`: other processes write events too.
   */
  idlePollMs: number;
  /** How long done deliveries (and their events) are kept. */
  retentionMs: number;
}

export const defaultOutboxSettings: OutboxSettings = {
  maxAttempts: 10,
  backoffBaseMs: 1000,
  backoffMaxMs: 10 * 60_000,
  batchSize: 200,
  pollMs: 1000,
  idlePollMs: 60_000,
  retentionMs: 24 * 3600_000,
};

/**
 * What the dispatcher tells the outside (metrics): called synchronously, cheap to
 * implement with counters and a histogram.
 */
export interface OutboxObserver {
  /** Deliveries handled in one round; `lagMs` is commit-to-done for each. */
  processed(processor: string, lagMs: readonly number[]): void;
  /** A handler threw; `dead` when that was its last attempt. */
  failed(processor: string, dead: boolean): void;
}

/** The delay before attempt `attempts + 1`, after `attempts` failures. No jitter: one dispatcher runs each processor. */
function backoffMs(settings: OutboxSettings, attempts: number): number {
  return Math.min(settings.backoffMaxMs, settings.backoffBaseMs * 2 ** Math.max(0, attempts - 1));
}

const MAX_ROUNDS = 20;

/**
 * Runs a processor's due deliveries in order, after their transactions committed. The
 * caller makes sure one process at a time runs a given processor (the job scheduler's
 * lock); `active` lets a round stop between two handlers when that process loses the lock.
 * Successes are marked in one statement per round; each failure gets its next attempt
 * with exponential backoff, and a delivery out of attempts is dead until an admin retries
 * it. A handler may also defer its delivery to a later time without spending an attempt.
 */
export class OutboxDispatcher {
  private readonly log: Logger;
  /** Per processor, after a round that left nothing due: when it looked, and the earliest known due time. */
  private readonly quiet = new Map<string, { lookedAt: number; nextDueAt: number }>();

  constructor(
    private readonly deps: {
      store: Store;
      clock: Clock;
      log: Logger;
      registry: ProcessorRegistry;
      settings: OutboxSettings;
      observer?: OutboxObserver | undefined;
    },
  ) {
    this.log = deps.log.child({ part: 'outbox' });
  }

  get settings(): OutboxSettings {
    return this.deps.settings;
  }

  /** Handles what is due for one processor; answers how many deliveries were handled and how many failed. */
  async run(
    name: string,
    active: () => boolean = () => true,
  ): Promise<{ done: number; failed: number }> {
    const processor = this.deps.registry.get(name);
    if (!processor) throw new Error(`no processor named ${name}`);
    const { store, clock, settings, observer } = this.deps;
    const maxAttempts = processor.maxAttempts ?? settings.maxAttempts;
    const total = { done: 0, failed: 0 };
    // On SQLite this process is the only writer of events: when none was committed for
    // this processor since it last looked and found nothing due, and none it knows of
    // (a retry, a deferral) comes due, looking would cost a statement for nothing each
    // second (~0.8 ms on the main thread). Work committed here rings the registry.
    const started = clock.now();
    const rung = this.deps.registry.answer(name);
    const quiet = this.quiet.get(name);
    if (
      !rung &&
      quiet &&
      store.dialect === 'sqlite' &&
      started < quiet.nextDueAt &&
      started - quiet.lookedAt < settings.idlePollMs
    )
      return total;
    this.quiet.delete(name);
    // The earliest due time this run leaves behind: retries and deferrals it writes.
    let nextDueAt = quiet && quiet.nextDueAt > started ? quiet.nextDueAt : Infinity;
    let caughtUp = false;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      if (!active() || (processor.ready && !processor.ready())) break;
      const due = await store.events.due(name, clock.now(), settings.batchSize);
      if (due.length === 0) {
        caughtUp = true;
        break;
      }
      const done: number[] = [];
      const lags: number[] = [];
      const failed: DeliveryFailure[] = [];
      const deferred: { id: number; until: number }[] = [];
      for (const d of due) {
        if (!active()) break;
        try {
          const outcome = await processor.handle({
            deliveryId: d.id,
            eventId: d.event_id,
            idempotencyKey: `${d.event_id}:${name}`,
            attempt: d.attempts,
            createdAt: d.created_at,
            event: JSON.parse(d.payload) as DomainEvent,
          });
          if (outcome) {
            deferred.push({ id: d.id, until: Math.max(outcome.deferUntil, clock.now()) });
            continue;
          }
          done.push(d.id);
          lags.push(clock.now() - d.created_at);
        } catch (err) {
          const attempts = d.attempts + 1;
          const dead = attempts >= maxAttempts || err instanceof PermanentFailure;
          const now = clock.now();
          failed.push({
            id: d.id,
            attempts,
            state: dead ? 'dead' : 'pending',
            nextAttemptAt: dead ? now : now + backoffMs(settings, attempts),
            lastError: errorText(err),
          });
          // Ids and the type only: the event's facts stay in the store.
          this.log.warn(
            {
              processor: name,
              deliveryId: d.id,
              type: d.type,
              attempts,
              dead,
              error: errorText(err),
            },
            dead
              ? 'outbox delivery is dead after its last attempt'
              : 'outbox delivery failed; will retry',
          );
          observer?.failed(name, dead);
        }
      }
      if (done.length + failed.length + deferred.length > 0)
        await store.transaction((tx) => tx.events.settle(done, failed, deferred, clock.now()));
      if (done.length > 0) observer?.processed(name, lags);
      total.done += done.length;
      total.failed += failed.length;
      for (const f of failed)
        if (f.state === 'pending') nextDueAt = Math.min(nextDueAt, f.nextAttemptAt);
      for (const d of deferred) nextDueAt = Math.min(nextDueAt, d.until);
      if (due.length < settings.batchSize) {
        // Stopped between two handlers (the lock was lost): what is left is still due.
        caughtUp = done.length + failed.length + deferred.length === due.length;
        break;
      }
    }
    if (caughtUp) this.quiet.set(name, { lookedAt: started, nextDueAt });
    return total;
  }

  /** Removes done deliveries and unneeded events past the retention period, in chunks. */
  async prune(): Promise<{ deliveries: number; events: number }> {
    const cutoff = this.deps.clock.now() - this.deps.settings.retentionMs;
    const total = { deliveries: 0, events: 0 };
    for (;;) {
      const n = await this.deps.store.events.prune(cutoff, 5000);
      total.deliveries += n.deliveries;
      total.events += n.events;
      if (n.deliveries < 5000 && n.events < 5000) return total;
    }
  }
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}
