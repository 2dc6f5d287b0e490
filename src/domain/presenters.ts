import type { UserRow } from '../store/schema.js';
import type { AdminUserWire, PersonWire, UserWire, WorkingHours } from '../shared/wire.js';
import { iso } from './clock.js';

export const photoUrl = (u: Pick<UserRow, 'photo_file_id'>): string | null =>
  u.photo_file_id ? `/api/files/${u.photo_file_id}` : null;

export function parseWorkingHours(raw: string | null): WorkingHours | null {
  if (!raw) return null;
  try {
    return JSON.parse(raw) as WorkingHours;
  } catch {
    return null;
  }
}

export function presentUser(u: UserRow): UserWire {
  return {
    id: u.id,
    role: u.role,
    name: u.name,
    email: u.email,
    photoUrl: photoUrl(u),
    specialty: u.specialty,
    dateOfBirth: u.date_of_birth,
    workingHours: parseWorkingHours(u.working_hours),
    outOfOffice: u.out_of_office,
    disabled: u.disabled_at !== null,
  };
}

/** One participant as the other sees them; the room list passes the same columns from its join. */
export function presentPerson(
  u: Pick<UserRow, 'id' | 'role' | 'name' | 'photo_file_id' | 'specialty' | 'date_of_birth'>,
): PersonWire {
  return {
    id: u.id,
    role: u.role,
    name: u.name,
    photoUrl: photoUrl(u),
    specialty: u.role === 'practitioner' ? u.specialty : null,
    dateOfBirth: u.role === 'patient' ? u.date_of_birth : null,
  };
}

/** The admin area's view of an account: the user plus its lifecycle times. */
export function presentAdminUser(u: UserRow): AdminUserWire {
  return {
    ...presentUser(u),
    createdAt: iso(Number(u.created_at)),
    updatedAt: iso(Number(u.updated_at)),
    disabledAt: u.disabled_at === null ? null : iso(Number(u.disabled_at)),
  };
}
