import type { z } from 'zod';
import { validationFailed } from './errors.js';

/**
 * Holds a value to a shared schema inside the domain, whoever called: the HTTP schemas
 * check the same rules first, but the domain is also called from the real-time gateway,
 * the demo practice and jobs.
 */
export function parseField<T extends z.ZodType>(
  schema: T,
  value: unknown,
  path: string,
): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw validationFailed(parsed.error.issues[0]?.message ?? 'is not valid', path);
  return parsed.data;
}
