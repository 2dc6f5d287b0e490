import { randomUUID } from 'node:crypto';
import type { Store } from '../../store/store.js';
import type { NewDelivery, NewEvent } from '../../store/event-repository.js';
import { subjectOf, type DomainEvent } from './events.js';
import type { ProcessorRegistry } from './processor.js';

/** An outbox write, built but not yet sent: the events and their deliveries. */
export interface OutboxRows {
  events: NewEvent[];
  deliveries: NewDelivery[];
}

/**
 * Writes domain events into the transaction of the change that causes them: the event
 * exists exactly when the change committed. One insert for the events and one for their
 * deliveries, however many events a batch (a group commit of messages, say) brings. Only
 * events some processor wants are written: an event is work to dispatch, not a record.
 */
export class Outbox {
  constructor(readonly registry: ProcessorRegistry) {}

  async emit(tx: Store, at: number, events: readonly DomainEvent[]): Promise<void> {
    const rows = this.stage(tx, at, events);
    if (rows.events.length > 0) await tx.events.insert(rows.events, rows.deliveries);
  }

  /**
   * The rows `emit` would insert, for a caller that inserts them in a statement of its own
   * within `tx` (a send batch on PostgreSQL writes them with its messages). The processors
   * are rung after commit either way; a rollback takes the rows and the ring with it.
   */
  stage(tx: Store, at: number, events: readonly DomainEvent[]): OutboxRows {
    if (events.length === 0) return { events: [], deliveries: [] };
    // Outside a transaction the event could commit without its change, or the reverse.
    if (!tx.db.isTransaction)
      throw new Error('domain events are written inside the transaction of their change');
    const rows: NewEvent[] = [];
    const deliveries: NewDelivery[] = [];
    for (const event of events) {
      const takers = this.registry.takersOfEvent(event);
      // An event no processor wants is not stored: nothing would ever read it (the audit
      // trail is the record of what happened). On the hot path that is most messages on
      // one process: a row in a random place of the events' id index saved per batch.
      if (takers.length === 0) continue;
      const id = randomUUID();
      rows.push({
        id,
        type: event.type,
        subject_id: subjectOf(event),
        payload: JSON.stringify(event),
        created_at: at,
      });
      for (const processor of takers)
        deliveries.push({ event_id: id, processor, next_attempt_at: at, created_at: at });
    }
    // After commit, not now: a dispatcher woken before the commit could look, find
    // nothing yet, and then sleep through the work.
    const takers = new Set(deliveries.map((d) => d.processor));
    if (takers.size > 0) tx.afterCommit(() => this.registry.ring(takers));
    return { events: rows, deliveries };
  }
}
