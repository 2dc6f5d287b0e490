import { z } from 'zod';
import { ATTACHMENTS_PER_MESSAGE, messageBodySchema, uuidSchema } from '../shared/wire.js';
import type { Ctx } from './context.js';
import type { Deps } from './deps.js';
import { AppError, validationFailed } from './errors.js';
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
  send(
    ctx: Ctx,
    roomId: string,
    input: { clientId: unknown; body: unknown; attachmentIds?: unknown },
  ): Promise<SendResult> {
    const clientId = uuidSchema.safeParse(input.clientId);
    if (!clientId.success)
      return Promise.reject(validationFailed('clientId must be a UUID', 'clientId'));
    const ids = attachmentIdsSchema.safeParse(input.attachmentIds ?? []);
    if (!ids.success) {
      const tooMany = ids.error.issues.some((i) => i.code === 'too_big');
      return Promise.reject(
        tooMany
          ? new AppError(
              'too_many_attachments',
              `A message carries at most ${ATTACHMENTS_PER_MESSAGE} files`,
            )
          : validationFailed('attachmentIds must be distinct upload ids', 'attachmentIds'),
      );
    }
    const attachmentIds = ids.data.map((id) => id.toLowerCase());
    // With files, the text may be left empty; without, it may not.
    const emptyWithFiles =
      attachmentIds.length > 0 && typeof input.body === 'string' && input.body.trim() === '';
    const body = emptyWithFiles
      ? { success: true as const, data: '' }
      : messageBodySchema.safeParse(input.body);
    if (!body.success)
      return Promise.reject(
        validationFailed(body.error.issues[0]?.message ?? 'Message is not valid', 'body'),
      );
    // Participation is checked inside the writer's transaction, with the room locked.
    return this.writer.submit(ctx, roomId, clientId.data.toLowerCase(), body.data, attachmentIds);
  }
}

const attachmentIdsSchema = z
  .array(uuidSchema)
  .max(ATTACHMENTS_PER_MESSAGE)
  .refine((ids) => new Set(ids.map((i) => i.toLowerCase())).size === ids.length);
