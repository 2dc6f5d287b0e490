import { z } from 'zod';
import { MESSAGE_MAX, messageSchema } from '../../../shared/wire.js';

export const startChatBody = z.object({ practitionerId: z.string().min(1).max(64) });

const seq = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const pageQuery = z.object({
  after: seq.optional().describe('messages with a greater seq, oldest first'),
  before: seq.optional().describe('messages with a smaller seq (older history)'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const pageResponse = z.object({ messages: z.array(messageSchema), hasMore: z.boolean() });

export const sendBody = z.object({
  clientId: z
    .string()
    .max(64)
    .describe('a UUID chosen by the client; re-sending it never makes a second message'),
  body: z
    .string()
    .max(64 * 1024)
    .describe(
      `1 to ${MESSAGE_MAX.toLocaleString('en')} characters after trimming; may be empty when attachmentIds are given`,
    ),
  attachmentIds: z
    .array(z.string().max(64))
    .max(20)
    .optional()
    .describe('ids of uploads (POST /api/rooms/{id}/attachments) the message carries, at most 5'),
});

export const readBody = z.object({ seq: z.number().int().min(0) });
export const readResponse = z.object({ readSeq: z.number().int() });
