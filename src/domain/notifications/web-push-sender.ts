import webpush from 'web-push';

/** Where a push goes and the keys to encrypt for it (RFC 8291). */
export interface PushTarget {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface PushOptions {
  /** How long the push service keeps it for a device that is off (seconds). */
  ttlSeconds: number;
  urgency: 'very-low' | 'low' | 'normal' | 'high';
  /** Pushes with the same topic replace each other while still waiting at the push service. */
  topic: string;
}

/** Sends one encrypted push; answers the push service's status (201, 404, 410, …). */
export interface PushSender {
  send(target: PushTarget, payload: string, opts: PushOptions): Promise<number>;
}

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
  /** Who runs this server, for the push service: https: or mailto:. */
  subject: string;
}

export const generateVapidKeys = (): { publicKey: string; privateKey: string } =>
  webpush.generateVAPIDKeys();

const SEND_TIMEOUT_MS = 10_000;

/**
 * The `web-push` library encrypts (aes128gcm) and signs (VAPID); the request itself goes
 * out with fetch, which keeps a hard timeout and also reaches a test's push service over
 * plain HTTP on 127.0.0.1 (only ever allowed there by PUSH_ALLOW_HTTP_LOOPBACK).
 */
export function webPushSender(vapid: VapidKeys): PushSender {
  return {
    async send(target, payload, opts) {
      const request = webpush.generateRequestDetails(target, payload, {
        vapidDetails: vapid,
        TTL: opts.ttlSeconds,
        urgency: opts.urgency,
        topic: opts.topic,
      });
      const headers = Object.fromEntries(
        Object.entries(request.headers).map(([k, v]) => [k, String(v)]),
      );
      const res = await fetch(request.endpoint, {
        method: request.method,
        headers,
        ...(request.body ? { body: new Uint8Array(request.body) } : {}),
        redirect: 'error',
        signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
      });
      // Drained so the connection can be reused; what the push service says is not kept.
      await res.arrayBuffer();
      return res.status;
    },
  };
}
