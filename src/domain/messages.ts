import { messageBodySchema, uuidSchema } from '../shared/wire.js';
import type { Ctx } from './context.js';
import type { Deps } from './deps.js';
import { validationFailed } from './errors.js';
import { MessageWriter, type SendResult } from './message-writer.js';
import { DeliveryRecorder } from './delivery.js';

export class MessageService {
  readonly writer: MessageWriter;
  readonly deliveries: DeliveryRecorder;

  constructor(deps: Deps) {
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
}
