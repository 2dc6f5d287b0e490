import { z } from 'zod';

/** The admin's view of the outbox: what processors still have to do, and what failed for good. */

export const outboxStateSchema = z
  .enum(['pending', 'done', 'dead'])
  .describe('pending: waiting or retrying; done: processed; dead: out of attempts');
export type OutboxState = z.infer<typeof outboxStateSchema>;

const processorName = z
  .string()
  .max(64)
  .regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, 'must be a processor name');

export const outboxQuerySchema = z.object({
  state: outboxStateSchema.default('dead'),
  processor: processorName.optional(),
  beforeId: z
    .string()
    .regex(/^\d{1,15}$/, 'must be a delivery id')
    .optional()
    .describe('next page: the nextBeforeId of the previous page'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
export type OutboxQuery = z.infer<typeof outboxQuerySchema>;

export const outboxDeliverySchema = z.object({
  id: z.string(),
  eventId: z.string(),
  eventType: z.string().describe('e.g. messages.committed, appointment.changed, session.ended'),
  subjectId: z.string().nullable().describe('the room, appointment or user the event is about'),
  processor: z.string(),
  state: outboxStateSchema,
  attempts: z.number().int(),
  nextAttemptAt: z.string().describe('when a pending delivery runs next'),
  lastError: z.string().nullable().describe("the processor's last error; never health information"),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type OutboxDeliveryWire = z.infer<typeof outboxDeliverySchema>;

export const outboxProcessorSchema = z.object({
  processor: z.string(),
  takes: z
    .array(z.string())
    .describe('event types; empty for a processor this process does not run'),
  pending: z.number().int(),
  dead: z.number().int(),
  oldestPendingAt: z.string().nullable().describe('the oldest event still waiting: the lag'),
});
export type OutboxProcessorWire = z.infer<typeof outboxProcessorSchema>;

export const outboxPageSchema = z.object({
  processors: z.array(outboxProcessorSchema),
  deliveries: z.array(outboxDeliverySchema).describe('newest first'),
  nextBeforeId: z.string().nullable().describe('null when there are no older deliveries'),
});
export type OutboxPageWire = z.infer<typeof outboxPageSchema>;

export const outboxRetryAllSchema = z.object({ processor: processorName.optional() });
export const outboxRetriedSchema = z.object({ retried: z.number().int() });
