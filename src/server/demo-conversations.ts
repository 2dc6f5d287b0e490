import type { Role } from '../store/schema.js';
import type { Services } from './services.js';

/** Appointments, rooms and messages of the demo practice (filled in with the messaging domain). */
export async function seedConversations(
  _services: Services,
  _users: ReadonlyMap<string, { id: string; role: Role; name: string }>,
): Promise<void> {
  await Promise.resolve();
}
