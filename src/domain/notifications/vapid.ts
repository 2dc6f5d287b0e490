import type { Clock } from '../clock.js';
import type { Store } from '../../store/store.js';
import type { KeyRing } from '../attachments/file-crypto.js';
import { generateVapidKeys, type VapidKeys } from './web-push-sender.js';

/** How a sealed private key is kept in the store's text column: `sealed:<key id>:<base64>`. */
const SEALED = 'sealed:';
const AAD_ID = 'vapid';

/**
 * The server's VAPID identity: the configured pair, or one generated on first start and
 * kept in the store, so every process and every restart signs as the same server (browsers
 * bind each subscription to the public key it was made with). With DATA_KEY set, the stored
 * private key is sealed under it like a file's data key, so a copy of the database or a
 * backup cannot sign pushes to the practice's patients.
 */
export async function resolveVapidKeys(
  store: Store,
  clock: Clock,
  config: {
    vapidPublicKey?: string | undefined;
    vapidPrivateKey?: string | undefined;
    vapidSubject: string;
  },
  keys: KeyRing,
): Promise<VapidKeys> {
  if (config.vapidPublicKey && config.vapidPrivateKey)
    return {
      publicKey: config.vapidPublicKey,
      privateKey: config.vapidPrivateKey,
      subject: config.vapidSubject,
    };
  const stored = await store.push.vapidKeys(() => {
    const pair = generateVapidKeys();
    return { publicKey: pair.publicKey, privateKey: sealVapid(keys, pair.privateKey) };
  }, clock.now());
  const privateKey = openVapid(keys, stored.privateKey);
  await resealIfStale(store, keys, stored.privateKey, privateKey);
  return { publicKey: stored.publicKey, privateKey, subject: config.vapidSubject };
}

/**
 * Seals the stored private key under the current DATA_KEY when it is kept in plain text
 * (stored before DATA_KEY was set) or under an older key (`npm run rotate-data-key`).
 * Answers whether it changed.
 */
export async function resealVapidKey(store: Store, keys: KeyRing): Promise<boolean> {
  const stored = await store.push.storedVapidKeys();
  if (!stored) return false;
  return resealIfStale(store, keys, stored.privateKey, openVapid(keys, stored.privateKey));
}

async function resealIfStale(
  store: Store,
  keys: KeyRing,
  stored: string,
  privateKey: string,
): Promise<boolean> {
  if (!keys.current || stored.startsWith(`${SEALED}${keys.current.id}:`)) return false;
  await store.push.storeVapidPrivateKey(sealVapid(keys, privateKey));
  return true;
}

/** The private key as the store keeps it: sealed when there is a DATA_KEY, else as it is. */
export function sealVapid(keys: KeyRing, privateKey: string): string {
  const sealed = keys.wrapSecret(AAD_ID, Buffer.from(privateKey, 'utf8'));
  return sealed ? `${SEALED}${sealed.keyId}:${sealed.wrapped.toString('base64')}` : privateKey;
}

/** The private key from its stored form; throws, naming the key id, when that key is not given. */
export function openVapid(keys: KeyRing, stored: string): string {
  if (!stored.startsWith(SEALED)) return stored;
  const [keyId, wrapped] = stored.slice(SEALED.length).split(':');
  if (!keyId || !wrapped) throw new Error('the stored VAPID private key is malformed');
  return keys.unwrap(AAD_ID, keyId, Buffer.from(wrapped, 'base64')).toString('utf8');
}
