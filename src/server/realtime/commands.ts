import { z } from 'zod';
import type { ClientCommand } from '../../shared/events.js';

const id = z.string().min(1).max(64);
const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** Every frame from a client is checked against this before anything acts on it. */
export const clientCommandSchema: z.ZodType<ClientCommand> = z.discriminatedUnion('type', [
  z.object({ type: z.literal('resume'), rooms: z.record(id, seq) }),
  z.object({
    type: z.literal('send'),
    roomId: id,
    clientId: z.string().max(64),
    body: z.string().max(64 * 1024),
  }),
  z.object({ type: z.literal('read'), roomId: id, seq }),
  z.object({ type: z.literal('typing'), roomId: id, typing: z.boolean() }),
  z.object({ type: z.literal('presence'), status: z.enum(['online', 'away']) }),
  z.object({ type: z.literal('ping') }),
]);

export function parseCommand(raw: string): ClientCommand | undefined {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const parsed = clientCommandSchema.safeParse(data);
  return parsed.success ? parsed.data : undefined;
}
