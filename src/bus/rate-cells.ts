import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Bus } from './bus.js';
import { RedisBus } from './redis-bus.js';

/**
 * Rate limiting by the generic cell rate algorithm (a token bucket kept as one number per
 * key: the theoretical arrival time of the next cell). `take` lets a call through when it
 * is at most `toleranceMs` ahead of schedule and answers 0; otherwise it answers how many
 * milliseconds to wait. Time comes from the caller (the injected Clock), like every other
 * timing rule, so tests move it without sleeping.
 */
export interface RateCells {
  take(key: string, now: number, intervalMs: number, toleranceMs: number): Promise<number>;
}

/** One process: the schedule per key in memory; keys back on schedule are forgotten. */
export class LocalRateCells implements RateCells {
  private readonly due = new Map<string, number>();
  private sweptAt = 0;

  take(key: string, now: number, intervalMs: number, toleranceMs: number): Promise<number> {
    return Promise.resolve(this.takeNow(key, now, intervalMs, toleranceMs));
  }

  takeNow(key: string, now: number, intervalMs: number, toleranceMs: number): number {
    this.sweep(now);
    const tat = Math.max(this.due.get(key) ?? now, now);
    const wait = tat - now - toleranceMs;
    if (wait > 0) return Math.ceil(wait);
    this.due.set(key, tat + intervalMs);
    return 0;
  }

  private sweep(now: number): void {
    if (now - this.sweptAt < 60_000) return;
    this.sweptAt = now;
    for (const [key, tat] of this.due) if (tat <= now) this.due.delete(key);
  }
}

// The same arithmetic in one atomic step. The key expires a minute after it is back on
// schedule (by then it means the same as no key): the slack covers processes whose clocks
// differ a little, since expiry runs on Redis's clock and the schedule on ours.
const TAKE = `
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local wait = tat - now - tolerance
if wait > 0 then return math.ceil(wait) end
redis.call('SET', KEYS[1], tostring(tat + interval), 'PX', math.ceil(tat + interval - now) + 60000)
return 0
`;

type WithTake = Redis & {
  carechatTakeCell(key: string, now: number, interval: number, tolerance: number): Promise<number>;
};

/**
 * Shared by every process through Redis, so a user's tabs on different processes share
 * one limit. While Redis cannot answer, this process's own cells stand in: the limit
 * then holds per process instead of lapsing.
 */
export class RedisRateCells implements RateCells {
  private readonly redis: WithTake;
  private readonly fallback = new LocalRateCells();

  constructor(
    redis: Redis,
    private readonly prefix: string,
    private readonly log?: Logger,
  ) {
    if (!('carechatTakeCell' in redis))
      redis.defineCommand('carechatTakeCell', { numberOfKeys: 1, lua: TAKE });
    this.redis = redis as WithTake;
  }

  async take(key: string, now: number, intervalMs: number, toleranceMs: number): Promise<number> {
    try {
      return await this.redis.carechatTakeCell(
        `${this.prefix}${key}`,
        now,
        intervalMs,
        toleranceMs,
      );
    } catch (err) {
      this.log?.debug({ err }, 'rate cells: redis unavailable, limiting in this process');
      return this.fallback.takeNow(key, now, intervalMs, toleranceMs);
    }
  }
}

/** Cells shared through Redis when the bus has it, else in this process. */
export function rateCellsFor(bus: Bus, log?: Logger): RateCells {
  if (bus instanceof RedisBus) return new RedisRateCells(bus.commands, `${bus.prefix}rate:`, log);
  return new LocalRateCells();
}
