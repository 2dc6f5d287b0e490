import { z } from 'zod';

/** The answer of GET /api/admin/audit/verify. */
export const auditVerdictSchema = z.object({
  ok: z
    .boolean()
    .describe('true when every row links to the one before and hashes to what it holds'),
  checked: z.number().int().describe('rows checked, from the first'),
  firstBrokenId: z.string().optional().describe('the first row that does not verify'),
  problem: z
    .enum(['link', 'hash', 'missing', 'checkpoint_mismatch', 'checkpoint_signature'])
    .optional()
    .describe(
      'link: prev_hash is not the previous row’s hash; hash: the row was changed; missing: rows a checkpoint covered are gone',
    ),
  headId: z.string().nullable().describe('the newest row checked'),
});
export type AuditVerdictWire = z.infer<typeof auditVerdictSchema>;
