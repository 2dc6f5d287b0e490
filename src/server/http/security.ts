import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import helmet from '@fastify/helmet';
import type { Authenticated, AuthService } from '../../domain/auth.js';
import type { Ctx } from '../../domain/context.js';
import { AppError } from '../../domain/errors.js';
import type { Config } from '../config.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Reachable without a session. Everything else needs one: deny by default. */
    public?: boolean;
    /**
     * Skips the session's CSRF token (the Origin check still applies). Only for sign-in,
     * which must work for a browser that still holds an older session cookie.
     */
    csrfExempt?: boolean;
  }
  interface FastifyRequest {
    auth: Authenticated | null;
  }
}

export const sessionCookieName = (config: Pick<Config, 'secure'>): string =>
  config.secure ? '__Host-carechat_session' : 'carechat_session';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The authenticated caller of a route that requires a session. */
export function authOf(request: FastifyRequest): Authenticated {
  if (!request.auth) throw new AppError('unauthenticated', 'Please sign in');
  return request.auth;
}

export function ctxOf(request: FastifyRequest): Ctx {
  const { user } = authOf(request);
  return { actor: { id: user.id, role: user.role, name: user.name }, ip: request.ip };
}

/**
 * Cross-site requests are refused before anything else runs: a browser always sends
 * Origin on a cross-origin POST, and Sec-Fetch-Site on every request. Clients that are
 * not browsers send neither and are held to the CSRF token instead.
 */
export function originAllowed(request: FastifyRequest, allowed: ReadonlySet<string>): boolean {
  const origin = request.headers.origin;
  if (origin !== undefined) return allowed.has(origin);
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined) return site === 'same-origin' || site === 'none';
  return true;
}

function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function registerSecurity(app: FastifyInstance, config: Config, auth: AuthService): void {
  const cookieName = sessionCookieName(config);

  void app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        mediaSrc: ["'self'"],
        objectSrc: ["'none'"],
        frameSrc: ["'self'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        ...(config.secure ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    referrerPolicy: { policy: 'no-referrer' },
    frameguard: { action: 'deny' },
    strictTransportSecurity: config.secure
      ? { maxAge: 63_072_000, includeSubDomains: true }
      : false,
    crossOriginEmbedderPolicy: false,
  });

  app.decorateRequest('auth', null);

  // JSON only: Fastify's built-in text/plain parser would accept bodies that a cross-site
  // HTML form can send without a CORS preflight.
  app.removeContentTypeParser('text/plain');

  app.addHook('onRequest', async (request, reply) => {
    if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');

    // Read per request: with PORT=0 the public origin is only known after listen.
    const allowedOrigins = new Set([config.publicOrigin]);
    if (!SAFE_METHODS.has(request.method) && !originAllowed(request, allowedOrigins)) {
      throw new AppError('origin_refused', 'This request came from another site and was refused');
    }

    const token = request.cookies[cookieName];
    if (token) request.auth = (await auth.authenticate(token)) ?? null;
    // A cookie whose session has ended is worthless: tell the browser to forget it.
    if (token && !request.auth) clearSessionCookie(reply, config);

    const routeConfig = request.routeOptions.config;
    const isPublic = routeConfig.public === true || request.is404;
    if (!isPublic && !request.auth) throw new AppError('unauthenticated', 'Please sign in');

    if (!SAFE_METHODS.has(request.method) && request.auth && routeConfig.csrfExempt !== true) {
      const sent = request.headers['x-csrf-token'];
      if (typeof sent !== 'string' || !tokensEqual(sent, request.auth.session.csrf_token)) {
        throw new AppError(
          'csrf_invalid',
          'The security token is missing or out of date. Reload the page and try again.',
        );
      }
    }
  });
}

export function setSessionCookie(reply: FastifyReply, config: Config, token: string): void {
  void reply.setCookie(sessionCookieName(config), token, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: config.secure,
    maxAge: Math.floor(config.sessionAbsoluteMs / 1000),
  });
}

export function clearSessionCookie(reply: FastifyReply, config: Config): void {
  void reply.clearCookie(sessionCookieName(config), {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: config.secure,
  });
}
