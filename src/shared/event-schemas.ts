import { z } from 'zod';
import type { ServerEvent } from './events.js';
import { appointmentSchema, messageSchema, roomSchema, unreadSchema } from './wire.js';

/**
 * The server's real-time frames as zod schemas, for the AsyncAPI document. The type check
 * at the bottom fails the build when these and `ServerEvent` (events.ts) say different
 * things, so the published description cannot drift from what the gateway sends.
 */

const id = z.string();
const seqMap = z.record(z.string(), z.number().int()).describe('roomId → seq');

const frame = <T extends string, S extends z.ZodRawShape>(type: T, shape: S, description: string) =>
  z.object({ type: z.literal(type), ...shape }).describe(description);

export const serverEventSchema = z.discriminatedUnion('type', [
  frame(
    'hello',
    { userId: id, heartbeatMs: z.number().int().describe('the server pings this often') },
    'First frame on a new connection',
  ),
  frame('message', { message: messageSchema }, "A new message (also to the sender's other tabs)"),
  frame('message.updated', { message: messageSchema }, 'A message was edited or deleted'),
  frame(
    'ack',
    { clientId: z.string(), message: messageSchema },
    'Answer to `send`: the committed message (the original one for a repeated clientId)',
  ),
  frame(
    'error',
    {
      clientId: z.string().optional().describe('the `send` this answers, when it answers one'),
      code: z.string().describe('stable code, as in problem+json (e.g. not_found, rate_limited)'),
      title: z.string().describe('safe to show to a person'),
    },
    'A command was refused',
  ),
  frame(
    'receipt',
    { roomId: id, userId: id, kind: z.enum(['delivered', 'read']), seq: z.number().int() },
    'The other participant received or read up to seq',
  ),
  frame('typing', { roomId: id, userId: id, typing: z.boolean() }, 'Typing started or stopped'),
  frame(
    'presence',
    { userId: id, status: z.enum(['online', 'away', 'offline']) },
    'Presence of someone the caller talks to',
  ),
  frame('unread', unreadSchema.shape, 'Unread counts, in total and per room'),
  frame('room', { room: roomSchema }, 'A room was opened or changed'),
  frame('appointment', { appointment: appointmentSchema }, 'An appointment was created or changed'),
  frame(
    'resumed',
    {
      rooms: seqMap,
      truncated: z
        .array(id)
        .optional()
        .describe('rooms with more missed messages than one replay holds: page them over HTTP'),
    },
    'Replay after `resume` is done; live frames follow',
  ),
  frame(
    'session.ended',
    { reason: z.string() },
    'The session ended (sign-out, expiry, account disabled); the socket closes with 4401',
  ),
]);

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type ByType<U extends { type: string }> = { [T in U['type']]: Extract<U, { type: T }> };
type PerFrame<A extends { type: string }, B extends { type: string }> = {
  [T in keyof ByType<A> & keyof ByType<B>]: Same<Required<ByType<A>[T]>, Required<ByType<B>[T]>>;
}[keyof ByType<A> & keyof ByType<B>];
type EveryFrameSame<A extends { type: string }, B extends { type: string }> =
  Same<keyof ByType<A>, keyof ByType<B>> extends true
    ? false extends PerFrame<A, B>
      ? false
      : true
    : false;
// Comparing Required<> per frame also catches an optional field that only one side has.
const framesMatch: EveryFrameSame<z.infer<typeof serverEventSchema>, ServerEvent> = true;
void framesMatch;
