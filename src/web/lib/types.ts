export type { DashboardWire } from '../../shared/wire.js';

export const roomPath = (roomId: string): string => `/chat/room/${encodeURIComponent(roomId)}/`;

export const preview = (body: string, max = 120): string => {
  const flat = body.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};
