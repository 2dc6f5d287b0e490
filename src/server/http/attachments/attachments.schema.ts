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

export const linkQuery = z.object({
  access: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/, 'must be a link token')
    .describe('the one-time token of a link the app origin redirected to'),
});
