import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Bus } from './bus.js';
import { RedisBus } from './redis-bus.js';

/**
 * How many live connections each user has, across every server process. The gateway
 * calls `connect` when a socket opens and `disconnect` when it closes, and announces
 * `presence: online` when `connect` answers 1 (the user's first connection anywhere)
 * and `offline` when `disconnect` answers 0.
 */
export interface PresenceStore {
  /** Counts one more connection of `userId` in this process; answers the total across processes. */
  connect(userId: string): Promise<number>;
  /** Counts one connection fewer; answers the total across processes (0: now offline everywhere). */
  disconnect(userId: string): Promise<number>;
  /** Totals across processes for these users (0 for offline ones). */
  counts(userIds: readonly string[]): Promise<Map<string, number>>;
  close(): Promise<void>;
}

/** One process: the counts in memory are the whole truth. */
export class LocalPresenceStore implements PresenceStore {
  protected readonly local = new Map<string, number>();

  connect(userId: string): Promise<number> {
    return Promise.resolve(this.add(userId, 1));
  }
  disconnect(userId: string): Promise<number> {
    return Promise.resolve(this.add(userId, -1));
  }
  counts(userIds: readonly string[]): Promise<Map<string, number>> {
    return Promise.resolve(new Map(userIds.map((id) => [id, this.local.get(id) ?? 0])));
  }
  close(): Promise<void> {
    this.local.clear();
    return Promise.resolve();
  }

  protected add(userId: string, delta: number): number {
    const n = Math.max(0, (this.local.get(userId) ?? 0) + delta);
    if (n === 0) this.local.delete(userId);
    else this.local.set(userId, n);
    return n;
  }
}

// Each process owns one hash `<prefix>presence:proc:<id>` (user id → its connections
// there) that expires unless refreshed, and a sorted set `<prefix>presence:procs` of
// process ids scored by their last heartbeat (Redis's own clock, so hosts' clocks
// may differ). A total sums the hashes of processes seen within the TTL, so a process
// that dies stops counting once its TTL passes. Scripts run atomically, so of two
// connections opening at once in two processes exactly one sees 1.
const SUM_LIVE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function live_procs(ttl)
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now_ms() - ttl)
  return redis.call('ZRANGE', KEYS[2], 0, -1)
end
local function total(procs, prefix, user)
  local sum = 0
  for _, p in ipairs(procs) do
    local c = redis.call('HGET', prefix .. p, user)
    if c then sum = sum + tonumber(c) end
  end
  return sum
end
`;

/** KEYS: own hash, procs zset. ARGV: ttl, proc id, hash prefix, user, count here. */
const SET_AND_SUM = `${SUM_LIVE}
local ttl = tonumber(ARGV[1])
if tonumber(ARGV[5]) > 0 then
  redis.call('HSET', KEYS[1], ARGV[4], ARGV[5])
else
  redis.call('HDEL', KEYS[1], ARGV[4])
end
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], now_ms(), ARGV[2])
return total(live_procs(ttl), ARGV[3], ARGV[4])
`;

/** KEYS: own hash, procs zset. ARGV: ttl, proc id, hash prefix, then users. */
const SUM_MANY = `${SUM_LIVE}
local procs = live_procs(tonumber(ARGV[1]))
local out = {}
for i = 4, #ARGV do out[#out + 1] = total(procs, ARGV[3], ARGV[i]) end
return out
`;

/** KEYS: own hash, procs zset. ARGV: ttl, proc id, then user/count pairs. Rewrites this process's hash. */
const HEARTBEAT = `
redis.call('DEL', KEYS[1])
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]))
local t = redis.call('TIME')
redis.call('ZADD', KEYS[2], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), ARGV[2])
return 1
`;

export interface RedisPresenceOptions {
  redis: Redis;
  prefix: string;
  processId: string;
  /** How often this process refreshes its counts; they expire after three missed beats. */
  heartbeatMs?: number;
  log?: Logger;
}

/**
 * Presence across processes. The counts held in memory are this process's truth; Redis
 * holds every process's copy. The heartbeat rewrites the copy, so counts come back by
 * themselves after Redis restarts. While Redis is unreachable the answers fall back to
 * this process's own counts rather than failing the connection.
 */
export class RedisPresenceStore extends LocalPresenceStore {
  private readonly redis: Redis;
  private readonly ownKey: string;
  private readonly procsKey: string;
  private readonly hashPrefix: string;
  private readonly processId: string;
  private readonly ttlMs: number;
  private readonly timer: NodeJS.Timeout;
  private readonly log: Logger | undefined;

  constructor(opts: RedisPresenceOptions) {
    super();
    const heartbeatMs = opts.heartbeatMs ?? 10_000;
    this.redis = opts.redis;
    this.processId = opts.processId;
    this.hashPrefix = `${opts.prefix}presence:proc:`;
    this.ownKey = `${this.hashPrefix}${opts.processId}`;
    this.procsKey = `${opts.prefix}presence:procs`;
    this.ttlMs = heartbeatMs * 3;
    this.log = opts.log;
    this.timer = setInterval(() => void this.heartbeat(), heartbeatMs);
    this.timer.unref();
  }

  override async connect(userId: string): Promise<number> {
    return this.setAndSum(userId, this.add(userId, 1));
  }

  override async disconnect(userId: string): Promise<number> {
    return this.setAndSum(userId, this.add(userId, -1));
  }

  override async counts(userIds: readonly string[]): Promise<Map<string, number>> {
    if (userIds.length === 0) return new Map();
    try {
      const totals = (await this.redis.eval(
        SUM_MANY,
        2,
        this.ownKey,
        this.procsKey,
        this.ttlMs,
        this.processId,
        this.hashPrefix,
        ...userIds,
      )) as number[];
      return new Map(userIds.map((id, i) => [id, Number(totals[i] ?? 0)]));
    } catch (err) {
      this.log?.debug({ err }, 'presence counts from this process only (redis unavailable)');
      return super.counts(userIds);
    }
  }

  /** Writes this process's counts to Redis again and keeps them from expiring. */
  async heartbeat(): Promise<void> {
    const pairs = [...this.local].flatMap(([user, n]) => [user, n]);
    try {
      await this.redis.eval(
        HEARTBEAT,
        2,
        this.ownKey,
        this.procsKey,
        this.ttlMs,
        this.processId,
        ...pairs,
      );
    } catch (err) {
      this.log?.debug({ err }, 'presence heartbeat skipped (redis unavailable)');
    }
  }

  override async close(): Promise<void> {
    clearInterval(this.timer);
    this.local.clear();
    // Leave at once rather than after the TTL: this process's users are no longer here.
    await this.redis
      .multi()
      .del(this.ownKey)
      .zrem(this.procsKey, this.processId)
      .exec()
      .catch(() => undefined);
  }

  private async setAndSum(userId: string, here: number): Promise<number> {
    try {
      const total = await this.redis.eval(
        SET_AND_SUM,
        2,
        this.ownKey,
        this.procsKey,
        this.ttlMs,
        this.processId,
        this.hashPrefix,
        userId,
        here,
      );
      return Number(total);
    } catch (err) {
      this.log?.debug({ err }, 'presence counted in this process only (redis unavailable)');
      return here;
    }
  }
}

const stores = new WeakMap<Bus, PresenceStore>();

/**
 * The presence store that goes with a bus: across processes on a Redis bus (sharing its
 * command connection and closed with it), in memory otherwise. One per bus.
 */
export function presenceFor(
  bus: Bus,
  opts: { log?: Logger; heartbeatMs?: number } = {},
): PresenceStore {
  let store = stores.get(bus);
  if (store) return store;
  if (bus instanceof RedisBus) {
    const redisStore = new RedisPresenceStore({
      redis: bus.commands,
      prefix: bus.prefix,
      processId: bus.origin,
      ...opts,
    });
    bus.onClose(() => redisStore.close());
    store = redisStore;
  } else {
    store = new LocalPresenceStore();
  }
  stores.set(bus, store);
  return store;
}
