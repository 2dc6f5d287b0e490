import type { OutboxObserver } from './events/dispatcher.js';

/** How a live connection reaches its client: a WebSocket or the server-sent-events fallback. */
export type Transport = 'ws' | 'sse';

/**
 * What the domain and the gateway report about their own work, so an operator can watch
 * it. The domain knows nothing of how it is exported (the server implements this with
 * Prometheus, see server/metrics.ts); every call is cheap and never throws. Durations and
 * lags are in milliseconds.
 */
export interface Telemetry {
  /** A group commit of sends finished: `batch` sends, `created` new messages, `ms` in its transaction. */
  messagesCommitted(batch: number, created: number, ms: number): void;
  connectionOpened(transport: Transport): void;
  connectionClosed(transport: Transport): void;
  /** A live message frame was written to a connection, `lagMs` after the message was committed. */
  messageDelivered(transport: Transport, lagMs: number): void;
  /** Told of every outbox round: each delivery's lag from commit to done, and each failure. */
  outbox: OutboxObserver;
}

const nothing = (): void => undefined;

/** Reports nowhere: the default when metrics are off, and in tests that do not look. */
export const noTelemetry: Telemetry = {
  messagesCommitted: nothing,
  connectionOpened: nothing,
  connectionClosed: nothing,
  messageDelivered: nothing,
  outbox: { processed: nothing, failed: nothing },
};
