import type { Delivered, DomainEvent, EventType } from './events.js';

/**
 * A named consumer of domain events. The outbox writes one delivery per event it takes
 * (in the transaction that causes the event) and calls `handle` after commit, again and
 * again until it succeeds or runs out of attempts. Delivery is at least once: a process
 * can die after the effect and before the outbox records it, so `handle` must be
 * idempotent, with `idempotencyKey` for effects that cannot be repeated (e-mail).
 */
export interface Processor {
  /** Lower-case words joined by dashes; shown to the admin and kept in the store. */
  readonly name: string;
  /** The event types it takes; no delivery is written for any other. */
  readonly takes: readonly EventType[];
  /**
   * Of the events it takes, those worth a delivery at all, decided from the event alone
   * inside the transaction that causes it (no store access: it runs for every event of a
   * batch). Absent: every one. Web Push takes a message only for a recipient with a device
   * subscribed, so everyone else's messages cost it no delivery, dispatch or settle.
   */
  wants?(event: DomainEvent): boolean;
  /**
   * False while something it needs is down (Redis, an SMTP server): its due events wait
   * without spending attempts, so an outage does not turn a backlog into dead letters.
   */
  ready?(): boolean;
  /**
   * Throws to ask for a retry; the error's message is kept for the admin, so no health
   * information in it. It must finish in bounded time (an SMTP client with its own
   * timeouts): the processor's next event waits for it, and so does shutdown.
   */
  handle(delivered: Delivered): Promise<void | Deferred>;
  /** Attempts before a delivery is dead; the outbox's setting when absent. */
  readonly maxAttempts?: number;
}

/**
 * "Not yet": the delivery stays pending until `until` (epoch ms) without spending an
 * attempt. For work that waits on purpose, such as a notification after a quiet period
 * or a reminder a day later, checked again against the store when it comes due.
 */
export interface Deferred {
  deferUntil: number;
}

/**
 * A failure that retrying cannot cure (an SMTP server's 5xx for an address): the delivery
 * is dead at once, for the admin to see, instead of spending its remaining attempts.
 */
export class PermanentFailure extends Error {
  override readonly name = 'PermanentFailure';
}

const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;

/** The processors of this process, by name, and which of them take each event type. */
export class ProcessorRegistry {
  private readonly byName = new Map<string, Processor>();
  private readonly byType = new Map<EventType, string[]>();
  private readonly rung = new Set<string>();

  constructor(processors: readonly Processor[] = []) {
    for (const p of processors) this.register(p);
  }

  register(p: Processor): void {
    if (!NAME.test(p.name) || p.name.length > 64)
      throw new Error(
        `processor name ${JSON.stringify(p.name)} must be lower-case words joined by dashes`,
      );
    if (this.byName.has(p.name)) throw new Error(`processor ${p.name} is registered twice`);
    this.byName.set(p.name, p);
    for (const type of new Set(p.takes)) {
      const list = this.byType.get(type) ?? [];
      list.push(p.name);
      this.byType.set(type, list);
    }
  }

  get(name: string): Processor | undefined {
    return this.byName.get(name);
  }

  all(): Processor[] {
    return [...this.byName.values()];
  }

  /** New work for these processors committed in this process (the dispatcher's doorbell). */
  ring(names: Iterable<string>): void {
    for (const name of names) this.rung.add(name);
  }

  /** Whether work for this processor committed here since the last call; clears the mark. */
  answer(name: string): boolean {
    return this.rung.delete(name);
  }

  /** Names of the processors that take this type (empty: the event is stored for none). */
  takersOf(type: EventType): readonly string[] {
    return this.byType.get(type) ?? [];
  }

  /** Names of the processors that take this event and want a delivery of it. */
  takersOfEvent(event: DomainEvent): string[] {
    return this.takersOf(event.type).filter((name) => {
      const p = this.byName.get(name);
      return !p?.wants || p.wants(event);
    });
  }
}
