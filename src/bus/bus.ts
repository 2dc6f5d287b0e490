import type { MessageWire } from '../shared/wire.js';

/**
 * Signals between the parts of the server, and between server processes. A signal is a
 * wake-up, never the source of truth: receivers read what to deliver from the store by
 * sequence number, so a lost signal delays nothing beyond the next one or a resume.
 *
 * `messages` may carry the committed rows for sockets in the process that wrote them
 * (same turn of the event loop); other processes receive only the room and seq.
 */
export type BusEvent =
  | { t: 'messages'; roomId: string; seq: number; userIds: string[]; messages?: MessageWire[] }
  | { t: 'message.updated'; roomId: string; messageId: string; userIds: string[] }
  | {
      t: 'receipt';
      roomId: string;
      userId: string;
      kind: 'delivered' | 'read';
      seq: number;
      userIds: string[];
    }
  | { t: 'typing'; roomId: string; userId: string; typing: boolean; userIds: string[] }
  | { t: 'presence'; userId: string; status: 'online' | 'away' | 'offline'; userIds: string[] }
  | { t: 'unread'; userId: string }
  | { t: 'room'; roomId: string; userIds: string[] }
  | { t: 'appointment'; appointmentId: string; userIds: string[] }
  | { t: 'session.ended'; userId: string; sessionIds?: string[]; reason: SessionEndReason };

export type SessionEndReason = 'logout' | 'expired' | 'disabled' | 'password_reset';

export type BusHandler = (event: BusEvent, local: boolean) => void;

export interface Bus {
  publish(event: BusEvent): void;
  subscribe(handler: BusHandler): () => void;
  /** 'local' (one process) or 'redis'; health reports it. */
  readonly mode: 'local' | 'redis';
  healthy(): boolean;
  close(): Promise<void>;
}

/** Single-process bus: delivery is synchronous, in the same turn as the commit. */
export class LocalBus implements Bus {
  readonly mode = 'local' as const;
  private handlers = new Set<BusHandler>();

  publish(event: BusEvent): void {
    for (const h of this.handlers) h(event, true);
  }
  subscribe(handler: BusHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }
  healthy(): boolean {
    return true;
  }
  close(): Promise<void> {
    this.handlers.clear();
    return Promise.resolve();
  }
}
