/**
 * One error model for the whole server. Domain code throws these; the HTTP layer maps
 * them to problem+json in one place (server/http/problem.ts) and the WebSocket gateway to
 * error frames. `code` is stable and documented; `title` is safe to show to a person.
 */
export type ErrorCode =
  | 'validation_failed'
  | 'not_found'
  | 'unauthenticated'
  | 'forbidden'
  | 'csrf_invalid'
  | 'origin_refused'
  | 'rate_limited'
  | 'invalid_credentials'
  | 'account_disabled'
  | 'email_taken'
  | 'conflict'
  | 'appointment_not_accepted'
  | 'invalid_transition'
  | 'appointment_in_past'
  | 'client_id_conflict'
  | 'room_closed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'file_too_large'
  | 'image_too_large'
  | 'file_unreadable'
  | 'pdf_encrypted'
  | 'pdf_active_content'
  | 'too_many_attachments'
  | 'attachment_quota_exceeded'
  | 'store_unavailable'
  | 'internal_error';

const statusByCode: Record<ErrorCode, number> = {
  validation_failed: 400,
  not_found: 404,
  unauthenticated: 401,
  forbidden: 403,
  csrf_invalid: 403,
  origin_refused: 403,
  rate_limited: 429,
  invalid_credentials: 401,
  account_disabled: 401,
  email_taken: 409,
  conflict: 409,
  appointment_not_accepted: 403,
  invalid_transition: 409,
  appointment_in_past: 400,
  client_id_conflict: 409,
  room_closed: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  file_too_large: 413,
  image_too_large: 422,
  file_unreadable: 422,
  pdf_encrypted: 422,
  pdf_active_content: 422,
  too_many_attachments: 400,
  attachment_quota_exceeded: 429,
  store_unavailable: 503,
  internal_error: 500,
};

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly title: string,
    readonly details?: { errors?: { path: string; message: string }[]; retryAfterSeconds?: number },
  ) {
    super(title);
    this.status = statusByCode[code];
  }
}

export const notFound = (what = 'Resource') => new AppError('not_found', `${what} not found`);
export const validationFailed = (message: string, path = '') =>
  new AppError('validation_failed', 'The request is not valid', { errors: [{ path, message }] });
