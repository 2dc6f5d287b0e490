import type { Ctx } from '../context.js';
import type { Deps } from '../deps.js';
import { validationFailed } from '../errors.js';

/** A browser's `PushSubscription.toJSON()`, as the route's schema has shaped it. */
export interface BrowserSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface PushSubscriptionRules {
  /** Tests run a push service on 127.0.0.1 over plain HTTP; production never may. */
  allowHttpLoopback: boolean;
  /** Hosts of push services (`.example.com` also takes its subdomains), or `*` for any. */
  serviceHosts: readonly string[] | '*';
}

/** Where the browsers people use keep their push services (Chrome and its kin, Firefox, Edge, Safari). */
export const KNOWN_PUSH_SERVICES: readonly string[] = [
  'fcm.googleapis.com',
  'android.googleapis.com',
  'updates.push.services.mozilla.com',
  '.notify.windows.com',
  '.push.apple.com',
];

function knownService(host: string, hosts: readonly string[] | '*'): boolean {
  if (hosts === '*') return true;
  return hosts.some((h) => (h.startsWith('.') ? host.endsWith(h) : host === h));
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Where we may send: an https URL of a known push service. Anything else (http, a file:
 * URL, credentials in the URL, a host on the practice's own network) is refused, because
 * the server makes this request on its own and must not be turned into a client for
 * addresses no browser's push service would hand out.
 */
function checkEndpoint(endpoint: string, rules: PushSubscriptionRules): void {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw validationFailed('must be a URL', 'endpoint');
  }
  const httpLoopback =
    rules.allowHttpLoopback && url.protocol === 'http:' && LOOPBACK.has(url.hostname);
  if (url.protocol !== 'https:' && !httpLoopback)
    throw validationFailed('must be an https URL of a push service', 'endpoint');
  if (url.username || url.password)
    throw validationFailed('must not carry credentials', 'endpoint');
  if (!httpLoopback && !knownService(url.hostname, rules.serviceHosts))
    throw validationFailed('must be the address of a known push service', 'endpoint');
}

/** Base64url of exactly `bytes` bytes (and, for a public key, an uncompressed P-256 point). */
function checkKey(value: string, bytes: number, path: string, point = false): void {
  const raw = /^[A-Za-z0-9_-]+=*$/.test(value) ? Buffer.from(value, 'base64url') : Buffer.alloc(0);
  if (raw.length !== bytes || (point && raw[0] !== 4))
    throw validationFailed(
      point ? 'must be an uncompressed P-256 public key' : `must be ${bytes} bytes`,
      path,
    );
}

/** The signed-in user's devices that take Web Push. */
export class PushSubscriptions {
  constructor(
    private readonly deps: Deps,
    private readonly rules: PushSubscriptionRules,
  ) {}

  /** Stores this browser's subscription for the caller, tied to the session that made it. */
  async subscribe(ctx: Ctx, sessionIdHash: string, sub: BrowserSubscription): Promise<void> {
    checkEndpoint(sub.endpoint, this.rules);
    checkKey(sub.keys.p256dh, 65, 'keys.p256dh', true);
    checkKey(sub.keys.auth, 16, 'keys.auth');
    await this.deps.store.push.save({
      endpoint: sub.endpoint,
      user_id: ctx.actor.id,
      session_id_hash: sessionIdHash,
      p256dh: sub.keys.p256dh,
      auth: sub.keys.auth,
      created_at: this.deps.clock.now(),
    });
  }

  /** Removes it; another user's endpoint (or an unknown one) is left alone, silently. */
  async unsubscribe(ctx: Ctx, endpoint: string): Promise<void> {
    await this.deps.store.push.removeOwn(ctx.actor.id, endpoint);
  }
}
