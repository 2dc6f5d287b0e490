import { randomUUID } from 'node:crypto';
import type { Store } from '../../store/store.js';
import type { NewDelivery, NewEvent } from '../../store/event-repository.js';
import { subjectOf, type DomainEvent } from './events.js';
import type { ProcessorRegistry } from './processor.js';

/**
 * Writes domain events into the transaction of the change that causes them: the event
 * exists exactly when the change committed. One insert for the events and one for their
 * deliveries, however many events a batch (a group commit of messages, say) brings.
 */
export class Outbox {
  constructor(readonly registry: ProcessorRegistry) {}

  async emit(tx: Store, at: number, events: readonly DomainEvent[]): Promise<void> {
    if (events.length === 0) return;
    // Outside a transaction the event could commit without its change, or the reverse.
    if (!tx.db.isTransaction)
      throw new Error('domain events are written inside the transaction of their change');
    const rows: NewEvent[] = [];
    const deliveries: NewDelivery[] = [];
    for (const event of events) {
      const id = randomUUID();
      rows.push({
        id,
        type: event.type,
        subject_id: subjectOf(event),
        payload: JSON.stringify(event),
        created_at: at,
      });
      for (const processor of this.registry.takersOf(event.type))
        deliveries.push({ event_id: id, processor, next_attempt_at: at, created_at: at });
    }
    await tx.events.insert(rows, deliveries);
    // After commit, not now: a dispatcher woken before the commit could look, find
    // nothing yet, and then sleep through the work.
    const takers = new Set(deliveries.map((d) => d.processor));
    if (takers.size > 0) tx.afterCommit(() => this.registry.ring(takers));
  }
}
