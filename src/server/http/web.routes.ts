import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** Client-side pages, including the old system's addresses, which keep working. */
export const WEB_PAGES = [
  '/',
  '/login',
  '/dashboard',
  '/patient-dashboard',
  '/patient-dashboard/*',
  '/practitioner-dashboard',
  '/practitioner-dashboard/*',
  '/chat',
  '/chat/*',
  '/appointments',
  '/appointments/*',
  '/admin',
  '/admin/*',
  '/account',
  '/settings/*',
];

/** Files at fixed addresses outside the hashed assets, with their types. */
const STATIC_FILES: readonly (readonly [string, string])[] = [
  ['favicon.svg', 'image/svg+xml'],
  ['manifest.webmanifest', 'application/manifest+json'],
  // The service worker's scope is its own path, so it lives at the root.
  ['sw.js', 'text/javascript; charset=utf-8'],
  ['icons/icon-192.png', 'image/png'],
  ['icons/icon-512.png', 'image/png'],
  ['icons/icon-maskable-512.png', 'image/png'],
];

export function registerWeb(app: FastifyInstance, webRoot: string): void {
  const indexPath = join(webRoot, 'index.html');
  const built = existsSync(indexPath);
  const index = built
    ? readFileSync(indexPath)
    : Buffer.from(
        '<!doctype html><html lang="en"><title>carechat</title><p>The web app is not built yet: run <code>npm run build</code>.</p></html>',
      );

  if (built) {
    void app.register(fastifyStatic, {
      root: join(webRoot, 'assets'),
      prefix: '/assets/',
      immutable: true,
      maxAge: '365d',
      index: false,
      wildcard: true,
      decorateReply: false,
      allowedPath: () => true,
    });
    app.addHook('onRoute', (route) => {
      if (route.url.startsWith('/assets/'))
        route.config = { ...(route.config ?? {}), public: true };
    });
    for (const [file, type] of STATIC_FILES) {
      const path = join(webRoot, file);
      if (!existsSync(path)) continue;
      const data = readFileSync(path);
      app.get(`/${file}`, { config: { public: true }, schema: { hide: true } }, (_req, reply) =>
        // The service worker is checked for updates on every visit, so it must not be cached.
        reply
          .header('cache-control', file === 'sw.js' ? 'no-cache' : 'public, max-age=86400')
          .type(type)
          .send(data),
      );
    }
  }

  for (const url of WEB_PAGES) {
    app.get(url, { config: { public: true }, schema: { hide: true } }, (_req, reply) =>
      reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(index),
    );
  }
}
