import type { RateCells } from '../bus/rate-cells.js';
import type { Clock } from './clock.js';
import type { Ctx } from './context.js';
import { AppError } from './errors.js';

export interface SendRate {
  /** Messages per second a user may send, sustained. */
  perSecond: number;
  /** How many may go at once after a quiet spell. */
  burst: number;
}

/**
 * One limit per user on sending messages, whichever way they arrive (WebSocket or HTTP)
 * and however many tabs or processes carry them: the key is the user, not the
 * connection. Over the limit, a send is refused with `rate_limited` and how long to wait.
 */
export class SendLimiter {
  private readonly intervalMs: number;
  private readonly toleranceMs: number;

  constructor(
    private readonly cells: RateCells,
    private readonly clock: Clock,
    rate: SendRate,
  ) {
    this.intervalMs = 1000 / rate.perSecond;
    this.toleranceMs = this.intervalMs * (rate.burst - 1);
  }

  async take(ctx: Ctx): Promise<void> {
    const now = this.clock.now();
    const waitMs = await this.cells.take(
      `send:${ctx.actor.id}`,
      now,
      this.intervalMs,
      this.toleranceMs,
    );
    if (waitMs > 0) {
      throw new AppError(
        'rate_limited',
        'You are sending messages too fast. Please wait a moment.',
        {
          retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
        },
      );
    }
  }
}
