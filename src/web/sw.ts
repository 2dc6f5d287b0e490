/**
 * The service worker (built to /sw.js). Three jobs, and nothing that could hold health
 * information: it shows Web Push notifications (which carry none), opens the room when one
 * is clicked, and keeps the app's static files so the installed app starts and, offline,
 * says so instead of showing the browser's error page. API answers are never cached or even
 * looked at: the fetch handler leaves every /api/ request to the network.
 *
 * Self-contained on purpose (no imports): the bundle must not share a chunk with the app.
 * The project's TypeScript library is the DOM's, so the worker's own types are declared here.
 */

interface ExtendableEvt extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface FetchEvt extends ExtendableEvt {
  request: Request;
  respondWith(r: Response | Promise<Response>): void;
}
interface PushEvt extends ExtendableEvt {
  data: { json(): unknown } | null;
}
interface NotificationEvt extends ExtendableEvt {
  notification: Notification;
}
interface MessageEvt extends ExtendableEvt {
  data: unknown;
}
interface WindowClientLike {
  url: string;
  visibilityState: DocumentVisibilityState;
  focus(): Promise<WindowClientLike>;
  navigate?(url: string): Promise<WindowClientLike | null>;
}
interface WorkerScope {
  location: Location;
  registration: ServiceWorkerRegistration;
  clients: {
    matchAll(o: { type: 'window'; includeUncontrolled: boolean }): Promise<WindowClientLike[]>;
    openWindow(url: string): Promise<WindowClientLike | null>;
    claim(): Promise<void>;
  };
  skipWaiting(): Promise<void>;
  addEventListener(type: 'install' | 'activate', l: (e: ExtendableEvt) => void): void;
  addEventListener(type: 'fetch', l: (e: FetchEvt) => void): void;
  addEventListener(type: 'push', l: (e: PushEvt) => void): void;
  addEventListener(type: 'notificationclick', l: (e: NotificationEvt) => void): void;
  addEventListener(type: 'message', l: (e: MessageEvt) => void): void;
}

const sw = globalThis as unknown as WorkerScope;

// Set by Vite at build time. One cache per release: activating a new worker deletes the
// caches of earlier ones, so superseded hashed files do not pile up.
declare const __BUILD_ID__: string;
const CACHE = `carechat-static-${__BUILD_ID__}`;
const PRECACHE = [
  '/manifest.webmanifest',
  '/favicon.svg',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
  '/icons/icon-maskable-512.png',
];

const OFFLINE_PAGE = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>You are offline · carechat</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<main>
  <h1>You are offline</h1>
  <p>carechat needs a connection to show your messages. Check your connection, then try again.</p>
  <p><a href="">Try again</a></p>
</main>
</html>`;

function offline(): Response {
  return new Response(OFFLINE_PAGE, {
    status: 503,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
  });
}

sw.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE))
      .then(() => sw.skipWaiting()),
  );
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => sw.clients.claim()),
  );
});

const isStatic = (url: URL) =>
  url.pathname.startsWith('/assets/') || PRECACHE.includes(url.pathname);

/** Hashed files never change under their name: the cached copy is the file. */
async function cacheFirst(request: Request): Promise<Response> {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request);
  if (hit) return hit;
  const res = await fetch(request);
  if (res.ok) await cache.put(request, res.clone());
  return res;
}

sw.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== sw.location.origin || url.pathname.startsWith('/api/')) return;
  if (request.mode === 'navigate') {
    event.respondWith(fetch(request).catch(() => offline()));
    return;
  }
  if (isStatic(url)) event.respondWith(cacheFirst(request));
});

interface Announcement {
  title: string;
  body: string;
  roomId: string;
  seq: number;
  url: string;
}

function announcement(data: unknown): Announcement | null {
  if (typeof data !== 'object' || data === null) return null;
  const d = data as Record<string, unknown>;
  if (typeof d.roomId !== 'string' || typeof d.seq !== 'number') return null;
  const url = typeof d.url === 'string' && d.url.startsWith('/') ? d.url : '/chat';
  return {
    title: typeof d.title === 'string' ? d.title : 'New secure message',
    body: typeof d.body === 'string' ? d.body : '',
    roomId: d.roomId,
    seq: d.seq,
    url,
  };
}

// What the app reported read, per room, while this worker lives: a push that arrives late
// for a message already read here is not shown.
const readUpTo = new Map<string, number>();
const tagOf = (roomId: string) => `room-${roomId}`;

async function show(a: Announcement): Promise<void> {
  if ((readUpTo.get(a.roomId) ?? 0) >= a.seq) return;
  // A tab in front already tells the user (and the app's own notification covers a hidden one).
  const tabs = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
  if (tabs.some((t) => t.visibilityState === 'visible')) return;
  // One notification per room (the same tag as the app's own): a second message replaces it.
  await sw.registration.showNotification(a.title, {
    body: a.body,
    tag: tagOf(a.roomId),
    icon: '/icons/icon-192.png',
    badge: '/icons/icon-192.png',
    data: { url: a.url, roomId: a.roomId, seq: a.seq },
  });
}

sw.addEventListener('push', (event) => {
  let data: unknown = null;
  try {
    data = event.data?.json() ?? null;
  } catch {
    data = null;
  }
  const a = announcement(data);
  if (a) event.waitUntil(show(a));
});

sw.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const data = event.notification.data as { url?: unknown } | null;
  const path = typeof data?.url === 'string' && data.url.startsWith('/') ? data.url : '/chat';
  const target = new URL(path, sw.location.origin).href;
  event.waitUntil(
    (async () => {
      const tabs = await sw.clients.matchAll({ type: 'window', includeUncontrolled: true });
      const tab = tabs[0];
      if (tab) {
        const focused = await tab.focus();
        if (focused.navigate && focused.url !== target) await focused.navigate(target);
        return;
      }
      await sw.clients.openWindow(target);
    })(),
  );
});

/** The app says a room is read up to `seq` (on this device): its notification goes. */
sw.addEventListener('message', (event) => {
  const d = event.data as { type?: unknown; roomId?: unknown; seq?: unknown } | null;
  if (d?.type !== 'read' || typeof d.roomId !== 'string' || typeof d.seq !== 'number') return;
  const { roomId, seq } = d;
  readUpTo.set(roomId, Math.max(seq, readUpTo.get(roomId) ?? 0));
  event.waitUntil(
    sw.registration.getNotifications({ tag: tagOf(roomId) }).then((list) => {
      for (const n of list) {
        const shown = (n.data as { seq?: unknown } | null)?.seq;
        if (typeof shown !== 'number' || shown <= seq) n.close();
      }
    }),
  );
});
