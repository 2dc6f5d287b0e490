import type { DeliveryWithEvent } from '../../store/event-repository.js';
import type {
  OutboxDeliveryWire,
  OutboxPageWire,
  OutboxProcessorWire,
  OutboxQuery,
} from '../../shared/outbox.js';
import { iso } from '../clock.js';
import { auditEntry, type Ctx } from '../context.js';
import type { Deps } from '../deps.js';
import { AppError, notFound } from '../errors.js';
import type { ProcessorRegistry } from './processor.js';
import { PRACTICE, require } from '../access/policy.js';

function present(d: DeliveryWithEvent): OutboxDeliveryWire {
  return {
    id: String(d.id),
    eventId: d.event_id,
    eventType: d.type,
    subjectId: d.subject_id,
    processor: d.processor,
    state: d.state,
    attempts: d.attempts,
    nextAttemptAt: iso(Number(d.next_attempt_at)),
    lastError: d.last_error,
    createdAt: iso(Number(d.created_at)),
    updatedAt: iso(Number(d.updated_at)),
  };
}

/**
 * The admin's side of the outbox: what each processor has waiting or dead, and putting
 * dead deliveries back in the queue (audited). Events carry ids only, so nothing here is
 * health information; anyone but an admin is told it does not exist.
 */
export class OutboxAdmin {
  constructor(
    private readonly deps: Pick<Deps, 'store' | 'clock'>,
    private readonly registry: ProcessorRegistry,
  ) {}

  /** Pending and dead counts with the oldest waiting event, per processor: the lag. */
  async processors(): Promise<OutboxProcessorWire[]> {
    const counts = new Map((await this.deps.store.events.counts()).map((c) => [c.processor, c]));
    const names = new Set([...this.registry.all().map((p) => p.name), ...counts.keys()]);
    return [...names].sort().map((name) => {
      const c = counts.get(name);
      return {
        processor: name,
        takes: [...(this.registry.get(name)?.takes ?? [])],
        pending: c?.pending ?? 0,
        dead: c?.dead ?? 0,
        oldestPendingAt: c?.oldestPendingAt == null ? null : iso(c.oldestPendingAt),
      };
    });
  }

  async list(ctx: Ctx, q: OutboxQuery): Promise<OutboxPageWire> {
    requireAdmin(ctx);
    const rows = await this.deps.store.events.list({
      state: q.state,
      processor: q.processor,
      beforeId: q.beforeId === undefined ? undefined : Number(q.beforeId),
      limit: q.limit + 1,
    });
    const page = rows.slice(0, q.limit);
    return {
      processors: await this.processors(),
      deliveries: page.map(present),
      nextBeforeId: rows.length > q.limit ? String(page[page.length - 1]!.id) : null,
    };
  }

  /** A dead delivery goes back to pending, due now, with its attempts counted afresh. */
  async retry(ctx: Ctx, id: number): Promise<OutboxDeliveryWire> {
    requireAdmin(ctx);
    const now = this.deps.clock.now();
    return this.deps.store.transaction(async (tx) => {
      const found = await tx.events.findById(id);
      if (!found) throw notFound('Delivery');
      if (!(await tx.events.retry(id, now)))
        throw new AppError(
          'conflict',
          `Only a dead delivery can be retried; this one is ${found.state}`,
        );
      await tx.audit.record(
        auditEntry(
          ctx,
          now,
          'outbox.retry',
          { type: 'outbox_delivery', id: String(id) },
          { processor: found.processor, eventType: found.type, attempts: found.attempts },
        ),
      );
      tx.afterCommit(() => this.registry.ring([found.processor]));
      return present((await tx.events.findById(id))!);
    });
  }

  /** Every dead delivery (of one processor, or all) back to pending, for after an outage. */
  async retryDead(ctx: Ctx, processor: string | undefined): Promise<{ retried: number }> {
    requireAdmin(ctx);
    const now = this.deps.clock.now();
    return this.deps.store.transaction(async (tx) => {
      const retried = await tx.events.retryDead(processor, now);
      const names = processor ? [processor] : this.registry.all().map((p) => p.name);
      tx.afterCommit(() => this.registry.ring(names));
      if (retried > 0)
        await tx.audit.record(
          auditEntry(ctx, now, 'outbox.retry_dead', null, {
            processor: processor ?? null,
            retried,
          }),
        );
      return { retried };
    });
  }
}

function requireAdmin(ctx: Ctx): void {
  require(ctx.actor, 'outbox.manage', PRACTICE);
}
