import { z } from 'zod';

export const uploadHeaders = z.object({
  'content-type': z
    .string()
    .regex(/^multipart\/form-data;/i, 'must be multipart/form-data')
    .describe('multipart/form-data with one part named `file`'),
});

export const fileResponse = z
  .string()
  .describe(
    'the bytes; Content-Disposition attachment (inline for re-encoded images), nosniff, a sandbox CSP, Cache-Control: private, no-store',
  );
