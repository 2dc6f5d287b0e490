import type { MessageWire } from '../shared/wire.js';
import { messageBodySchema, uuidSchema } from '../shared/wire.js';
import { auditEntry, type Ctx } from './context.js';
import type { Deps } from './deps.js';
import { validationFailed } from './errors.js';
import { presentMessage } from './message-presenter.js';
import { MessageWriter, type SendResult } from './message-writer.js';
import type { RoomService } from './rooms.js';
import { DeliveryRecorder } from './delivery.js';

export const PAGE_MAX = 200;

export interface PageQuery {
  after?: number | undefined;
  before?: number | undefined;
  limit?: number | undefined;
}

export class MessageService {
  readonly writer: MessageWriter;
  readonly deliveries: DeliveryRecorder;

  constructor(
    private readonly deps: Deps,
    private readonly rooms: RoomService,
  ) {
    this.writer = new MessageWriter(deps);
    this.deliveries = new DeliveryRecorder(deps);
  }

  /** Validates and sends; the same client id never makes a second message. */
  send(ctx: Ctx, roomId: string, input: { clientId: unknown; body: unknown }): Promise<SendResult> {
    const clientId = uuidSchema.safeParse(input.clientId);
    if (!clientId.success)
      return Promise.reject(validationFailed('clientId must be a UUID', 'clientId'));
    const body = messageBodySchema.safeParse(input.body);
    if (!body.success)
      return Promise.reject(
        validationFailed(body.error.issues[0]?.message ?? 'Message is not valid', 'body'),
      );
    // Participation is checked inside the writer's transaction, with the room locked.
    return this.writer.submit(ctx, roomId, clientId.data.toLowerCase(), body.data);
  }

  /** A page of history, audited as a read of health information; marks what the caller now has as delivered. */
  async page(
    ctx: Ctx,
    roomId: string,
    q: PageQuery,
  ): Promise<{ messages: MessageWire[]; hasMore: boolean }> {
    if (q.after !== undefined && q.before !== undefined)
      throw validationFailed('Use either after or before, not both', 'after');
    const room = await this.rooms.requireParticipant(ctx, roomId);
    const limit = Math.min(q.limit ?? 50, PAGE_MAX);
    const store = this.deps.store;
    const rows = await store.messages.page(roomId, {
      after: q.after,
      before: q.before,
      limit: limit + 1,
    });
    // One extra row tells whether there is more in the direction of travel.
    const hasMore = rows.length > limit;
    let page = rows;
    if (hasMore) page = q.after !== undefined ? rows.slice(0, limit) : rows.slice(1);
    await this.deps.readAudit.record(
      auditEntry(
        ctx,
        this.deps.clock.now(),
        'room.read_messages',
        { type: 'room', id: roomId },
        {
          count: page.length,
          ...(q.after !== undefined ? { after: q.after } : {}),
          ...(q.before !== undefined ? { before: q.before } : {}),
        },
      ),
    );
    const fromOther = page.filter((m) => m.sender_id !== ctx.actor.id);
    if (fromOther.length > 0) {
      this.deliveries.note(roomId, ctx.actor.id, fromOther[fromOther.length - 1]!.seq, [
        room.patient_id,
        room.practitioner_id,
      ]);
    }
    return { messages: page.map(presentMessage), hasMore };
  }
}
