import type { AppointmentWire, MessageWire, RoomWire } from './wire.js';

/**
 * The real-time protocol (`GET /api/ws` and the `GET /api/events` fallback), typed once
 * for the server and the web app. See ../shared/API.md for the contract.
 */

export type PresenceStatus = 'online' | 'away' | 'offline';
export type ReceiptKind = 'delivered' | 'read';

/** Frames the server sends. */
export type ServerEvent =
  | { type: 'hello'; userId: string; heartbeatMs: number }
  | { type: 'message'; message: MessageWire }
  | { type: 'message.updated'; message: MessageWire }
  | { type: 'ack'; clientId: string; message: MessageWire }
  | { type: 'error'; clientId?: string; code: string; title: string }
  | { type: 'receipt'; roomId: string; userId: string; kind: ReceiptKind; seq: number }
  | { type: 'typing'; roomId: string; userId: string; typing: boolean }
  | { type: 'presence'; userId: string; status: PresenceStatus }
  | { type: 'unread'; total: number; rooms: Record<string, number> }
  | { type: 'room'; room: RoomWire }
  | { type: 'appointment'; appointment: AppointmentWire }
  | { type: 'resumed'; rooms: Record<string, number>; truncated?: string[] }
  | { type: 'session.ended'; reason: string };

/** Frames the client sends. */
export type ClientCommand =
  | { type: 'resume'; rooms: Record<string, number> }
  | {
      type: 'send';
      roomId: string;
      clientId: string;
      body: string;
      /** Uploads (POST /api/rooms/{id}/attachments) the message carries, at most 5. */
      attachmentIds?: string[] | undefined;
    }
  | { type: 'read'; roomId: string; seq: number }
  | { type: 'typing'; roomId: string; typing: boolean }
  | { type: 'presence'; status: 'online' | 'away' }
  | { type: 'ping' };

export type ServerEventType = ServerEvent['type'];
export type ServerEventOf<T extends ServerEventType> = Extract<ServerEvent, { type: T }>;

/** WebSocket close codes. */
export const CloseCode = {
  unauthenticated: 4401,
  originRefused: 4403,
  tooSlow: 4408,
  frameTooLarge: 4413,
  rateLimited: 4429,
} as const;

/** Most messages a resume replays per room before it answers `truncated` for that room. */
export const RESUME_LIMIT = 1000;
export const TYPING_EXPIRES_MS = 5000;
