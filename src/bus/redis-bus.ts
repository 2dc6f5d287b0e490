import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { Dialect } from '../store/database.js';
import { LocalBus, type Bus, type BusEvent, type BusHandler } from './bus.js';

export interface RedisBusOptions {
  url: string;
  /** Key and channel prefix, so several deployments (or tests) can share one Redis. */
  prefix: string;
  log?: Logger;
}

/** What travels between processes: the event without message bodies, and who sent it. */
interface Envelope {
  o: string;
  e: BusEvent;
}

// Reconnect forever, backing off to at most two seconds between attempts.
const retryStrategy = (times: number): number => Math.min(100 * times, 2000);

/**
 * Fan-out between server processes over Redis pub/sub: one connection publishes, one
 * subscribes. A process's own events reach its handlers synchronously, in the same turn
 * as the commit (local=true, with the committed messages); other processes get them
 * from Redis (local=false) without message bodies, and read what to deliver from the
 * store by sequence number. Redis is only a wake-up: while it is down, publishing drops
 * events instead of queueing them, and clients catch up from the store on resume.
 */
export class RedisBus implements Bus {
  readonly mode = 'redis' as const;
  /** This process's id; events carrying it are not delivered again from Redis. */
  readonly origin = randomUUID();
  readonly channel: string;
  readonly prefix: string;
  /** The command connection, shared with helpers that keep cross-process state (presence, rate limits). */
  readonly commands: Redis;
  private readonly subscriber: Redis;
  private readonly handlers = new Set<BusHandler>();
  private readonly closeHooks: (() => Promise<void>)[] = [];
  private readonly log: Logger | undefined;
  private subscribed = false;
  private wasHealthy = false;
  private closed = false;
  private dropped = 0;

  constructor(opts: RedisBusOptions) {
    this.prefix = opts.prefix;
    this.channel = `${opts.prefix}events`;
    this.log = opts.log?.child({ component: 'redis-bus' });
    const common: RedisOptions = {
      retryStrategy,
      connectTimeout: 3000,
      // Commands fail fast while disconnected; callers treat Redis as best effort.
      maxRetriesPerRequest: 1,
      connectionName: `carechat-${this.origin.slice(0, 8)}`,
    };
    this.commands = new Redis(opts.url, { ...common, enableOfflineQueue: false });
    // The subscriber keeps its offline queue so the first SUBSCRIBE waits for the
    // connection; ioredis subscribes again by itself after every reconnect.
    this.subscriber = new Redis(opts.url, { ...common, maxRetriesPerRequest: null });

    for (const [name, conn] of [
      ['publisher', this.commands],
      ['subscriber', this.subscriber],
    ] as const) {
      conn.on('error', (err: Error) => {
        this.log?.debug({ err, connection: name }, 'redis connection error');
      });
      conn.on('ready', () => this.noteHealth());
      conn.on('close', () => this.noteHealth());
    }
    this.subscriber.on('message', (channel: string, payload: string) => {
      if (channel === this.channel) this.receive(payload);
    });
    this.subscriber.subscribe(this.channel).then(
      () => {
        this.subscribed = true;
        this.noteHealth();
      },
      (err: unknown) => {
        if (!this.closed) this.log?.error({ err }, 'redis subscribe failed');
      },
    );
  }

  publish(event: BusEvent): void {
    for (const h of this.handlers) h(event, true);
    if (this.closed) return;
    if (this.commands.status !== 'ready') {
      // Dropped, not queued: the store has the truth and clients resume from it.
      this.dropped += 1;
      return;
    }
    const envelope: Envelope = { o: this.origin, e: stripForWire(event) };
    this.commands.publish(this.channel, JSON.stringify(envelope)).catch((err: unknown) => {
      this.dropped += 1;
      this.log?.debug({ err }, 'redis publish failed; event dropped');
    });
  }

  subscribe(handler: BusHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** True while both connections are up and subscribed (ioredis subscribes again on every reconnect). */
  healthy(): boolean {
    return (
      !this.closed &&
      this.commands.status === 'ready' &&
      this.subscriber.status === 'ready' &&
      this.subscribed
    );
  }

  /** Events that could not be published (Redis down), since start. */
  get droppedCount(): number {
    return this.dropped;
  }

  /** Resolves true once healthy, or false after `timeoutMs`; never rejects. */
  async waitUntilHealthy(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.healthy()) {
      if (this.closed || Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 25));
    }
    return true;
  }

  /** Runs `hook` when the bus closes, before its connections go (helpers sharing `commands`). */
  onClose(hook: () => Promise<void>): void {
    this.closeHooks.push(hook);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    for (const hook of this.closeHooks.splice(0)) await hook().catch(() => undefined);
    this.closed = true;
    this.handlers.clear();
    await Promise.all([quit(this.commands), quit(this.subscriber)]);
  }

  private receive(payload: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(payload) as Envelope;
    } catch {
      this.log?.warn('ignored a malformed event from redis');
      return;
    }
    if (typeof envelope?.o !== 'string' || typeof envelope.e?.t !== 'string') return;
    // Our own events were delivered when published.
    if (envelope.o === this.origin) return;
    for (const h of this.handlers) {
      try {
        h(envelope.e, false);
      } catch (err) {
        this.log?.error({ err, event: envelope.e.t }, 'bus handler failed');
      }
    }
  }

  private noteHealth(): void {
    const now = this.healthy();
    if (now === this.wasHealthy || this.closed) return;
    this.wasHealthy = now;
    if (now) this.log?.info({ channel: this.channel }, 'redis fan-out connected');
    else
      this.log?.warn(
        'redis fan-out lost: serving and storing continue, events from other processes pause until it returns',
      );
  }
}

/** Remote processes read messages from the store by seq, so bodies never travel through Redis. */
function stripForWire(event: BusEvent): BusEvent {
  if (event.t !== 'messages' || event.messages === undefined) return event;
  const { messages: _omitted, ...rest } = event;
  return rest;
}

async function quit(conn: Redis): Promise<void> {
  if (conn.status === 'end') return;
  try {
    if (conn.status === 'ready') await conn.quit();
    else conn.disconnect();
  } catch {
    conn.disconnect();
  }
}

/**
 * The bus the configuration asks for: Redis when REDIS_URL is set, else in-process. Waits
 * briefly for Redis so that a healthy start reports ready, but starts degraded rather
 * than not at all when Redis is down.
 */
export async function createBus(opts: {
  redisUrl: string | undefined;
  prefix: string;
  dialect: Dialect;
  log: Logger;
}): Promise<Bus> {
  if (!opts.redisUrl) {
    if (opts.dialect === 'postgres') {
      opts.log.warn(
        'REDIS_URL is not set: events will not cross between processes, so run ONE carechat process only (set REDIS_URL to run several)',
      );
    }
    return new LocalBus();
  }
  const bus = new RedisBus({ url: opts.redisUrl, prefix: opts.prefix, log: opts.log });
  if (!(await bus.waitUntilHealthy(3000))) {
    opts.log.warn('redis is not reachable yet: starting degraded, fan-out begins when it connects');
  }
  return bus;
}

/** Options for @fastify/rate-limit: counters in Redis when the bus has it, so limits hold across processes. */
export function rateLimitStore(bus: Bus): {
  redis?: Redis;
  nameSpace?: string;
  skipOnError?: boolean;
} {
  if (!(bus instanceof RedisBus)) return {};
  // While Redis is down requests pass unlimited rather than failing; login limits are in the store.
  return { redis: bus.commands, nameSpace: `${bus.prefix}rate-limit:`, skipOnError: true };
}
