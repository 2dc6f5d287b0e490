import type { Insertable, Kysely } from 'kysely';
import type { DB, DeliveryState, EventDeliveriesTable, EventsTable } from './schema.js';

export type NewEvent = Insertable<EventsTable>;
export type NewDelivery = Pick<
  Insertable<EventDeliveriesTable>,
  'event_id' | 'processor' | 'next_attempt_at' | 'created_at'
>;

/** A delivery with its event, as the dispatcher and the admin's view read it. */
export interface DeliveryWithEvent {
  id: number;
  event_id: string;
  processor: string;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  type: string;
  subject_id: string | null;
  payload: string;
}

export interface DeliveryFailure {
  id: number;
  attempts: number;
  state: 'pending' | 'dead';
  nextAttemptAt: number;
  lastError: string;
}

export interface ProcessorCounts {
  processor: string;
  pending: number;
  dead: number;
  oldestPendingAt: number | null;
}

// Five columns a row at most: well under SQLite's bound-parameter limit.
const CHUNK = 1000;

/** The outbox's two tables: events (facts) and deliveries (work per processor). */
export class EventRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async insert(events: readonly NewEvent[], deliveries: readonly NewDelivery[]): Promise<void> {
    for (let i = 0; i < events.length; i += CHUNK)
      await this.db
        .insertInto('events')
        .values(events.slice(i, i + CHUNK))
        .execute();
    const now = deliveries[0]?.created_at ?? 0;
    for (let i = 0; i < deliveries.length; i += CHUNK)
      await this.db
        .insertInto('event_deliveries')
        .values(
          deliveries
            .slice(i, i + CHUNK)
            .map((d) => ({ ...d, state: 'pending' as const, attempts: 0, updated_at: now })),
        )
        .execute();
  }

  private withEvent() {
    return this.db
      .selectFrom('event_deliveries as d')
      .innerJoin('events as e', 'e.id', 'd.event_id')
      .select([
        'd.id',
        'd.event_id',
        'd.processor',
        'd.state',
        'd.attempts',
        'd.next_attempt_at',
        'd.last_error',
        'd.created_at',
        'd.updated_at',
        'e.type',
        'e.subject_id',
        'e.payload',
      ]);
  }

  /** A processor's pending deliveries that are due, oldest first. */
  due(processor: string, now: number, limit: number): Promise<DeliveryWithEvent[]> {
    return this.withEvent()
      .where('d.processor', '=', processor)
      .where('d.state', '=', 'pending')
      .where('d.next_attempt_at', '<=', now)
      .orderBy('d.id')
      .limit(limit)
      .execute();
  }

  findById(id: number): Promise<DeliveryWithEvent | undefined> {
    return this.withEvent().where('d.id', '=', id).executeTakeFirst();
  }

  /**
   * Records a dispatch round: the successes in one statement, each failure with its next
   * attempt, each deferral with its new due time.
   */
  async settle(
    done: readonly number[],
    failed: readonly DeliveryFailure[],
    deferred: readonly { id: number; until: number }[],
    now: number,
  ) {
    for (const d of deferred) {
      await this.db
        .updateTable('event_deliveries')
        .set({ next_attempt_at: d.until, updated_at: now })
        .where('id', '=', d.id)
        .where('state', '=', 'pending')
        .execute();
    }
    for (let i = 0; i < done.length; i += CHUNK) {
      await this.db
        .updateTable('event_deliveries')
        .set({ state: 'done', updated_at: now })
        .where('id', 'in', done.slice(i, i + CHUNK))
        .where('state', '=', 'pending')
        .execute();
    }
    for (const f of failed) {
      await this.db
        .updateTable('event_deliveries')
        .set({
          state: f.state,
          attempts: f.attempts,
          next_attempt_at: f.nextAttemptAt,
          last_error: f.lastError,
          updated_at: now,
        })
        .where('id', '=', f.id)
        .where('state', '=', 'pending')
        .execute();
    }
  }

  /** Newest first; `beforeId` pages further back. */
  list(f: {
    state: DeliveryState;
    processor?: string | undefined;
    beforeId?: number | undefined;
    limit: number;
  }): Promise<DeliveryWithEvent[]> {
    let q = this.withEvent().where('d.state', '=', f.state).orderBy('d.id', 'desc').limit(f.limit);
    if (f.processor) q = q.where('d.processor', '=', f.processor);
    if (f.beforeId !== undefined) q = q.where('d.id', '<', f.beforeId);
    return q.execute();
  }

  /** Pending and dead deliveries per processor (done ones are not counted: there are many). */
  async counts(): Promise<ProcessorCounts[]> {
    const rows = await this.db
      .selectFrom('event_deliveries')
      .select(({ fn }) => [
        'processor',
        'state',
        fn.countAll<number | string>().as('n'),
        fn.min('created_at').as('oldest'),
      ])
      .where('state', 'in', ['pending', 'dead'])
      .groupBy(['processor', 'state'])
      .execute();
    const by = new Map<string, ProcessorCounts>();
    for (const r of rows) {
      const c = by.get(r.processor) ?? {
        processor: r.processor,
        pending: 0,
        dead: 0,
        oldestPendingAt: null,
      };
      if (r.state === 'pending') {
        c.pending = Number(r.n);
        c.oldestPendingAt = r.oldest === null ? null : Number(r.oldest);
      } else c.dead = Number(r.n);
      by.set(r.processor, c);
    }
    return [...by.values()];
  }

  /** A dead delivery back to pending, due now, with a fresh count of attempts. */
  async retry(id: number, now: number): Promise<boolean> {
    const res = await this.db
      .updateTable('event_deliveries')
      .set({ state: 'pending', attempts: 0, next_attempt_at: now, updated_at: now })
      .where('id', '=', id)
      .where('state', '=', 'dead')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async retryDead(processor: string | undefined, now: number): Promise<number> {
    let q = this.db
      .updateTable('event_deliveries')
      .set({ state: 'pending', attempts: 0, next_attempt_at: now, updated_at: now })
      .where('state', '=', 'dead');
    if (processor) q = q.where('processor', '=', processor);
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  /**
   * Removes up to `limit` deliveries done before `cutoff`, then events older than it that
   * no delivery needs any more. Pending and dead work is never pruned.
   */
  async prune(cutoff: number, limit: number): Promise<{ deliveries: number; events: number }> {
    const d = await this.db
      .deleteFrom('event_deliveries')
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('event_deliveries')
          .select('id')
          .where('state', '=', 'done')
          .where('updated_at', '<', cutoff)
          .limit(limit),
      )
      .executeTakeFirst();
    const e = await this.db
      .deleteFrom('events')
      .where('id', 'in', (eb) =>
        eb
          .selectFrom('events')
          .select('id')
          .where('created_at', '<', cutoff)
          .where((eb) =>
            eb.not(
              eb.exists(
                eb
                  .selectFrom('event_deliveries as x')
                  .select('x.id')
                  .whereRef('x.event_id', '=', 'events.id'),
              ),
            ),
          )
          .limit(limit),
      )
      .executeTakeFirst();
    return { deliveries: Number(d.numDeletedRows), events: Number(e.numDeletedRows) };
  }
}
