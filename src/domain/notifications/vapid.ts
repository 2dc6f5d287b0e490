import type { Clock } from '../clock.js';
import type { Store } from '../../store/store.js';
import { generateVapidKeys, type VapidKeys } from './web-push-sender.js';

/**
 * The server's VAPID identity: the configured pair, or one generated on first start and
 * kept in the store, so every process and every restart signs as the same server (browsers
 * bind each subscription to the public key it was made with).
 */
export async function resolveVapidKeys(
  store: Store,
  clock: Clock,
  config: {
    vapidPublicKey?: string | undefined;
    vapidPrivateKey?: string | undefined;
    vapidSubject: string;
  },
): Promise<VapidKeys> {
  if (config.vapidPublicKey && config.vapidPrivateKey)
    return {
      publicKey: config.vapidPublicKey,
      privateKey: config.vapidPrivateKey,
      subject: config.vapidSubject,
    };
  const stored = await store.push.vapidKeys(generateVapidKeys, clock.now());
  return { ...stored, subject: config.vapidSubject };
}
