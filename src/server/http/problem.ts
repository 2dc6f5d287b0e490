import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  isResponseSerializationError,
} from 'fastify-type-provider-zod';
import { REFUSALS } from '../../domain/audit/denied.js';
import { AppError, type ErrorCode } from '../../domain/errors.js';

export interface Problem {
  type: string;
  status: number;
  title: string;
  code: ErrorCode;
  requestId: string;
  errors?: { path: string; message: string }[];
}

export function problemOf(err: AppError, requestId: string): Problem {
  return {
    type: `about:blank`,
    status: err.status,
    title: err.title,
    code: err.code,
    requestId,
    ...(err.details?.errors ? { errors: err.details.errors } : {}),
  };
}

export function sendProblem(reply: FastifyReply, err: AppError): FastifyReply {
  if (err.details?.retryAfterSeconds !== undefined)
    reply.header('retry-after', String(err.details.retryAfterSeconds));
  return reply
    .code(err.status)
    .type('application/problem+json')
    .serializer(JSON.stringify)
    .send(problemOf(err, String(reply.request.id)));
}

/** Maps every error to problem+json in one place. 5xx never shows internals. */
export function toAppError(error: FastifyError | Error, request: FastifyRequest): AppError {
  if (error instanceof AppError) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    return new AppError('validation_failed', 'The request is not valid', {
      errors: error.validation.map((v) => ({
        path: [error.validationContext, v.instancePath.replace(/^\//, '').replace(/\//g, '.')]
          .filter(Boolean)
          .join('.'),
        message: v.message ?? 'is invalid',
      })),
    });
  }
  if (isResponseSerializationError(error)) {
    request.log.error(
      { err: error, issues: error.cause.issues },
      'response did not match its schema',
    );
    return new AppError('internal_error', 'Something went wrong on our side');
  }
  const fe = error as FastifyError;
  switch (fe.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError(
        'unsupported_media_type',
        'Send JSON with Content-Type: application/json',
      );
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large', 'The request body is too large');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('validation_failed', 'The request body is not valid JSON');
    default:
      break;
  }
  if (fe.statusCode === 429) {
    return new AppError('rate_limited', 'Too many requests. Please slow down.', {
      retryAfterSeconds: 60,
    });
  }
  if (error instanceof SyntaxError || (fe.statusCode === 400 && /JSON/i.test(fe.message))) {
    return new AppError('validation_failed', 'The request body is not valid JSON');
  }
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new AppError('validation_failed', 'The request is not valid');
  }
  if (isStoreUnavailable(error)) {
    request.log.error({ err: error }, 'store unavailable');
    return new AppError(
      'store_unavailable',
      'The service is briefly unavailable. Please try again.',
      {
        retryAfterSeconds: 5,
      },
    );
  }
  request.log.error({ err: error }, 'unhandled error');
  return new AppError('internal_error', 'Something went wrong on our side');
}

const unavailableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08003',
  '08006',
  'SQLITE_BUSY',
  // The SQLite writer thread died with the request's transaction in flight (not committed).
  'SQLITE_WRITER_STOPPED',
]);

function isStoreUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown };
  if (typeof e.code === 'string' && unavailableCodes.has(e.code)) return true;
  return (
    typeof e.message === 'string' &&
    /Connection terminated|timeout exceeded when trying to connect/i.test(e.message)
  );
}

/** What a refused request asked for, from its route: never its body or query string. */
export interface RefusedRequest {
  code: ErrorCode;
  method: string;
  route: string | null;
  targetId: string | null;
}

export type OnRefused = (request: FastifyRequest, refused: RefusedRequest) => Promise<void>;

const ID_LIKE = /^[\w.:-]{1,100}$/;

function refusedOf(request: FastifyRequest, err: AppError): RefusedRequest {
  const params = (request.params ?? {}) as Record<string, unknown>;
  const id = params.id ?? Object.values(params)[0];
  return {
    code: err.code,
    method: request.method,
    route: request.routeOptions.url ?? null,
    // Only what looks like an id: a parameter that fails validation may hold anything.
    targetId: typeof id === 'string' && ID_LIKE.test(id) ? id : null,
  };
}

export function registerErrorHandling(app: FastifyInstance, onRefused?: OnRefused): void {
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    let appError = toAppError(error, request);
    const retry = reply.getHeader('retry-after');
    if (appError.code === 'rate_limited' && retry !== undefined) {
      appError = new AppError('rate_limited', appError.title, { retryAfterSeconds: Number(retry) });
    }
    // A refusal caused by a library's error (an image sharp could not decode) says why in
    // the log, so an operator can tell a damaged file from a fault of ours.
    if (appError.cause instanceof Error)
      request.log.info({ code: appError.code, cause: appError.cause.message }, 'request refused');
    if (onRefused && REFUSALS.has(appError.code)) {
      // The refusal is answered either way; a trail that cannot be written is logged.
      await onRefused(request, refusedOf(request, appError)).catch((err: unknown) =>
        request.log.warn({ err }, 'could not record a refused request'),
      );
    }
    return sendProblem(reply, appError);
  });
}
