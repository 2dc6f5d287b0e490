import type { AppointmentWire, MessageWire, PersonWire, UnreadWire } from '../../shared/wire.js';

/** GET /api/dashboard */
export interface DashboardWire {
  upcomingAppointments: AppointmentWire[];
  requests: AppointmentWire[];
  recentMessages: Array<{ message: MessageWire; roomId: string; from: PersonWire }>;
  unread: UnreadWire;
}

export const roomPath = (roomId: string): string => `/chat/room/${encodeURIComponent(roomId)}/`;

export const preview = (body: string, max = 120): string => {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};
