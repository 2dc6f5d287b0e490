import { timingSafeEqual } from 'node:crypto';
import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  preHandlerAsyncHookHandler,
} from 'fastify';
import helmet from '@fastify/helmet';
import type { Authenticated, AuthService } from '../../domain/auth.js';
import type { Ctx } from '../../domain/context.js';
import { AppError, notFound } from '../../domain/errors.js';
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
    /** Served on ATTACHMENT_ORIGIN; every other route answers 404 there. */
    attachmentHost?: boolean;
    /**
     * Authorized by a signature in its URL (an e-mail's one-click unsubscribe): no Origin
     * check and no CSRF token, since a mail provider's POST carries neither.
     */
    signedLink?: boolean;
  }
  interface FastifyRequest {
    auth: Authenticated | null;
  }
  interface FastifyInstance {
    /** The one limit for requests that find nothing; see registerProbeLimit. */
    probeLimit: preHandlerAsyncHookHandler;
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
 * Origin on a cross-origin POST, and Sec-Fetch-Site on every request. A state-changing
 * request with neither is refused too: the CSRF token alone would otherwise be the only
 * defence, and every client that is not a browser can send an Origin just as easily.
 */
export function originAllowed(request: FastifyRequest, allowed: ReadonlySet<string>): boolean {
  const origin = request.headers.origin;
  if (origin !== undefined) return allowed.has(origin);
  const site = request.headers['sec-fetch-site'];
  return site === 'same-origin' || site === 'none';
}

/**
 * A WebSocket upgrade must name an allowed Origin. Browsers always send one on an
 * upgrade, and cookies ride along cross-site, so a missing one is never a real page.
 */
export function websocketOriginAllowed(
  request: FastifyRequest,
  allowed: ReadonlySet<string>,
): boolean {
  const origin = request.headers.origin;
  return origin !== undefined && allowed.has(origin);
}

function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Requests that find nothing, per caller and minute, before they answer 429. */
export const PROBE_LIMIT_PER_MINUTE = 60;

/**
 * An attacker could search for valid URLs if 404 handling is not rate limited. Unknown
 * routes and the admin area answered to a non-admin share one counter, so a prober cannot
 * tell them apart by when the 429 comes. It counts per session (per address only for
 * callers without one): staff and patients often share one address, and one curious
 * patient must not lock a colleague out.
 */
function registerProbeLimit(app: FastifyInstance): void {
  const limit = app.rateLimit({
    max: PROBE_LIMIT_PER_MINUTE,
    timeWindow: 60_000,
    keyGenerator: (request) =>
      request.auth ? `probe:session:${request.auth.session.id_hash}` : `probe:ip:${request.ip}`,
  });
  app.decorate('probeLimit', limit);
}

export function registerSecurity(app: FastifyInstance, config: Config, auth: AuthService): void {
  const cookieName = sessionCookieName(config);
  registerProbeLimit(app);
  const filesOrigin = config.attachments.origin ? [config.attachments.origin] : [];
  const filesHost = config.attachments.origin ? new URL(config.attachments.origin).host : null;

  void app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        // Thumbnails and the PDF preview's fetch follow a redirect to ATTACHMENT_ORIGIN, when set.
        imgSrc: ["'self'", 'data:', 'blob:', ...filesOrigin],
        fontSrc: ["'self'"],
        connectSrc: ["'self'", ...filesOrigin],
        mediaSrc: ["'self'"],
        objectSrc: ["'none'"],
        frameSrc: ["'self'"],
        // The service worker (/sw.js) and the web app manifest, from this origin only.
        workerSrc: ["'self'"],
        manifestSrc: ["'self'"],
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
    // The files origin serves files and nothing else: no app, no API, no session.
    if (filesHost !== null && request.headers.host === filesHost) {
      if (request.routeOptions.config.attachmentHost !== true) throw notFound('Page');
      return;
    }

    // Read per request: with PORT=0 the public origin is only known after listen.
    const allowedOrigins = new Set([config.publicOrigin]);
    const signedLink = request.routeOptions.config.signedLink === true;
    if (
      !SAFE_METHODS.has(request.method) &&
      !signedLink &&
      !originAllowed(request, allowedOrigins)
    ) {
      throw new AppError('origin_refused', 'This request came from another site and was refused');
    }

    const token = request.cookies[cookieName];
    if (token) request.auth = (await auth.authenticate(token)) ?? null;
    // A cookie whose session has ended is worthless: tell the browser to forget it.
    if (token && !request.auth) clearSessionCookie(reply, config);

    const routeConfig = request.routeOptions.config;
    const isPublic = routeConfig.public === true || request.is404;
    if (!isPublic && !request.auth) throw new AppError('unauthenticated', 'Please sign in');

    if (
      !SAFE_METHODS.has(request.method) &&
      request.auth &&
      routeConfig.csrfExempt !== true &&
      !signedLink
    ) {
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
