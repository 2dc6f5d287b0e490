/**
 * The one way the web app talks HTTP to carechat: JSON in and out, the CSRF token on every
 * request that changes something, and problem+json errors turned into ApiError with a
 * sentence a person can read.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken: string | null = null;
const signedOutListeners = new Set<() => void>();

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** For requests made without api(), such as an upload that reports its progress. */
export const currentCsrfToken = (): string | null => csrfToken;

/** Called when the server says the session is gone (expired, signed out elsewhere, disabled). */
export function onSignedOut(listener: () => void): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  body?: unknown;
  signal?: AbortSignal;
  /** Login and the session probe answer 401 as a normal outcome, not as "signed out". */
  expectUnauthenticated?: boolean;
}

const FRIENDLY: Record<string, string> = {
  network: 'We could not reach carechat. Please check your connection and try again.',
  internal_error: 'Something went wrong on our side. Please try again in a moment.',
  rate_limited: 'Too many attempts. Please wait a minute and try again.',
};

export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network', FRIENDLY.network!);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) throw problemError(res.status, data, opts.expectUnauthenticated);
  return data as T;
}

/** A problem+json answer as an ApiError; a lost session tells the listeners. */
export function problemError(
  status: number,
  data: unknown,
  expectUnauthenticated = false,
): ApiError {
  const problem = (data ?? {}) as { code?: string; title?: string; detail?: string };
  const code = problem.code ?? (status >= 500 ? 'internal_error' : 'error');
  const message =
    FRIENDLY[code] ?? problem.detail ?? problem.title ?? `The request failed (${status}).`;
  if (status === 401 && code === 'unauthenticated' && !expectUnauthenticated) {
    for (const l of signedOutListeners) l();
  }
  return new ApiError(status, code, message);
}

/** What `network` failures say, for requests made without api(). */
export const networkError = (): ApiError => new ApiError(0, 'network', FRIENDLY.network!);

export const errorMessage = (err: unknown): string =>
  err instanceof Error ? err.message : 'Something went wrong. Please try again.';
