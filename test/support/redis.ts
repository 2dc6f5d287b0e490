import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

/**
 * A Redis key prefix no other test or deployment uses, and the clean-up that deletes its
 * keys: push the clean-up into the test's own list.
 */
export function uniqueRedisPrefix(url: string): { prefix: string; cleanup: () => Promise<void> } {
  const prefix = `carechat-test:${randomUUID().slice(0, 8)}:`;
  return {
    prefix,
    cleanup: async () => {
      const r = new Redis(url);
      const keys = await r.keys(`${prefix}*`);
      if (keys.length) await r.del(...keys);
      await r.quit();
    },
  };
}
