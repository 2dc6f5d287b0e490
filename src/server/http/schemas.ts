import { z } from 'zod';

export const problemSchema = z
  .object({
    type: z.string(),
    status: z.number().int(),
    title: z.string(),
    code: z
      .string()
      .describe('stable, for programs: e.g. not_found, validation_failed, rate_limited'),
    requestId: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details' });

const problem = {
  description: 'Problem details; `code` says what went wrong',
  content: { 'application/problem+json': { schema: problemSchema } },
};

/** Documented error answers; the error handler sends them with its own serializer. */
export const problemResponses = { '4xx': problem, '5xx': problem } as const;

export const idParams = z.object({ id: z.string().min(1).max(64) });
