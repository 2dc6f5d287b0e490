import { api } from './api.js';

/**
 * This browser's Web Push: the service worker, its subscription, and the server's copy of
 * it. The browser keeps the subscription itself; nothing is written to web storage.
 */

export const pushSupported = (): boolean =>
  typeof navigator !== 'undefined' &&
  'serviceWorker' in navigator &&
  typeof window !== 'undefined' &&
  'PushManager' in window &&
  typeof Notification !== 'undefined';

/** Registers /sw.js (again, if signing out cleared it); resolves with its registration. */
export async function registerServiceWorker(): Promise<ServiceWorkerRegistration | null> {
  if (typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return null;
  try {
    return await navigator.serviceWorker.register('/sw.js', { scope: '/' });
  } catch {
    // No worker (a development server, a browser that refuses): the app works without it.
    return null;
  }
}

/** Tells the worker a room is read up to `seq` here, so its notification closes. */
export function reportReadToWorker(roomId: string, seq: number): void {
  if (typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return;
  navigator.serviceWorker.controller?.postMessage({ type: 'read', roomId, seq });
}

export async function currentPushSubscription(): Promise<PushSubscription | null> {
  if (!pushSupported()) return null;
  const reg = await navigator.serviceWorker.getRegistration('/');
  return (await reg?.pushManager.getSubscription()) ?? null;
}

function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const b64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
  const raw = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(new ArrayBuffer(raw.length));
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

export type EnableOutcome = 'enabled' | 'denied' | 'unsupported';

/** Asks for permission, subscribes with the server's VAPID key and hands the server the subscription. */
export async function enablePush(): Promise<EnableOutcome> {
  if (!pushSupported()) return 'unsupported';
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') return 'denied';
  const reg = await registerServiceWorker();
  if (!reg) return 'unsupported';
  await navigator.serviceWorker.ready;
  const { vapidPublicKey } = await api<{ vapidPublicKey: string }>('/api/auth/session');
  let sub = await reg.pushManager.getSubscription();
  // A subscription made with another key (the server's key changed) cannot be used.
  const key = sub?.options.applicationServerKey;
  const wanted = keyBytes(vapidPublicKey);
  if (sub && key && !sameBytes(new Uint8Array(key), wanted)) {
    await sub.unsubscribe();
    sub = null;
  }
  sub ??= await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: wanted });
  await api('/api/me/push-subscriptions', { method: 'POST', body: sub.toJSON() });
  return 'enabled';
}

export async function disablePush(): Promise<void> {
  const sub = await currentPushSubscription();
  if (!sub) return;
  await api('/api/me/push-subscriptions', { method: 'DELETE', body: { endpoint: sub.endpoint } });
  await sub.unsubscribe();
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
