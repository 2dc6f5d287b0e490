import { z } from 'zod';
import { REFUSALS } from '../../domain/audit/denied.js';
import type { Authenticated } from '../../domain/auth.js';
import { AppError } from '../../domain/errors.js';
import { CloseCode, type ClientCommand } from '../../shared/events.js';
import type { Services } from '../services.js';
import type { Connection } from './connection.js';
import type { Delivery } from './delivery.js';
import type { Hub } from './hub.js';
import type { Presence } from './presence.js';
import type { Typing } from './typing.js';

const id = z.string().min(1).max(64);
const ID_LIKE = /^[\w.:-]{1,64}$/;
const seq = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** Every frame from a client is checked against this before anything acts on it. */
export const clientCommandSchema: z.ZodType<ClientCommand> = z.discriminatedUnion('type', [
  z.object({ type: z.literal('resume'), rooms: z.record(id, seq) }),
  z.object({
    type: z.literal('send'),
    roomId: id,
    clientId: z.string().max(64),
    body: z.string().max(64 * 1024),
    attachmentIds: z.array(z.string().max(64)).max(20).optional(),
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

/** What a client's commands do: each goes to the part (or domain service) it is about. */
export class Commands {
  constructor(
    private readonly hub: Hub,
    private readonly delivery: Delivery,
    private readonly presence: Presence,
    private readonly typing: Typing,
    private readonly services: Pick<
      Services,
      'clock' | 'denials' | 'feed' | 'log' | 'messages' | 'rooms' | 'sendLimit'
    >,
  ) {}

  async handle(conn: Connection, cmd: ClientCommand): Promise<void> {
    const now = this.services.clock.now();
    if (!conn.takeToken(now))
      return this.hub.terminate(conn, CloseCode.rateLimited, 'Too many commands');
    // Only what a person does keeps the session alive: automatic pings, presence and
    // resumes from an unattended tab must not defeat the idle timeout.
    if (cmd.type === 'send' || cmd.type === 'read' || cmd.type === 'typing')
      conn.lastActivity = now;
    if (cmd.type !== 'resume') await this.delivery.ready(conn);
    switch (cmd.type) {
      case 'resume':
        return this.delivery.resume(conn, cmd.rooms);
      case 'send': {
        const clientId = cmd.clientId.toLowerCase();
        conn.inflight.add(clientId);
        try {
          await this.services.sendLimit.take(conn.ctx);
          const { message } = await this.services.messages.send(conn.ctx, cmd.roomId, cmd);
          // A new message was acked by delivery in the commit's turn; a repeat is acked here.
          if (conn.inflight.delete(message.clientId))
            this.hub.emit(conn, { type: 'ack', clientId: cmd.clientId, message });
        } catch (err) {
          conn.inflight.delete(clientId);
          this.refuse(conn, cmd, err, cmd.clientId);
        }
        return;
      }
      case 'read':
        return this.services.rooms.markRead(conn.ctx, cmd.roomId, cmd.seq).then(
          () => undefined,
          (err: unknown) => this.refuse(conn, cmd, err),
        );
      case 'typing': {
        const room = conn.rooms.get(cmd.roomId);
        if (!room)
          return this.refuse(conn, cmd, new AppError('not_found', 'Conversation not found'));
        return this.typing.set(conn.userId, cmd.roomId, cmd.typing, room.userIds);
      }
      case 'presence':
        return this.presence.setStatus(conn, cmd.status);
      case 'ping':
        return;
    }
  }

  /**
   * Answers a command the rules refused; a refusal (another user's room, a closed move) is
   * written to the trail as access.denied, as the same refusal over HTTP is.
   */
  private refuse(
    conn: Connection,
    cmd: { type: string; roomId: string },
    err: unknown,
    clientId?: string,
  ): void {
    if (err instanceof AppError && REFUSALS.has(err.code)) {
      const { actor, ip } = conn.ctx;
      this.services.denials
        .record(
          { actor: { id: actor.id, role: actor.role }, ip },
          {
            code: err.code,
            method: 'WS',
            route: `ws:${cmd.type}`,
            // Only what looks like an id: the frame's room id is whatever the client sent.
            targetId: ID_LIKE.test(cmd.roomId) ? cmd.roomId : null,
          },
        )
        .catch((e: unknown) => this.services.log.warn({ err: e }, 'could not record a refusal'));
    }
    this.hub.emitError(conn, err, clientId);
  }

  /** A frame that is not a valid command: it counts against the rate limit and is answered, not acted on. */
  invalid(conn: Connection): void {
    if (!conn.takeToken(this.services.clock.now()))
      return this.hub.terminate(conn, CloseCode.rateLimited, 'Too many commands');
    this.hub.emitError(conn, new AppError('validation_failed', 'The frame is not a valid command'));
  }

  /** Typing from the HTTP fallback: the same rules as the WebSocket command. */
  async typingFromHttp(
    auth: Authenticated,
    ip: string | null,
    roomId: string,
    typing: boolean,
  ): Promise<void> {
    const u = auth.user;
    const room = await this.services.feed.room(
      { actor: { id: u.id, role: u.role, name: u.name }, ip },
      roomId,
    );
    if (!room) throw new AppError('not_found', 'Conversation not found');
    this.typing.set(u.id, roomId, typing, room.userIds);
  }
}
