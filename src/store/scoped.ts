import type { Kysely } from 'kysely';
import type { AppointmentQuery, AppointmentRepository } from './appointment-repository.js';
import type { FileRepository, FileRow } from './file-repository.js';
import type { RoomRepository } from './room-repository.js';
import type { AppointmentRow, DB, Role } from './schema.js';
import { ScopedMessages, ScopedRooms } from './scoped-rooms.js';
import { ScopedAttachments } from './scoped-attachments.js';

/** Whom a scoped accessor answers for: the acting user of a request or connection. */
export interface Caller {
  id: string;
  role: Role;
}

/** The repositories a scoped accessor is built over; handed in by the Store that owns them. */
export interface ScopeSources {
  db: Kysely<DB>;
  rooms: RoomRepository;
  appointments: AppointmentRepository;
  files: FileRepository;
}

/**
 * The store as one caller may see it (`store.for(ctx)`): rooms, messages and attachments of
 * the rooms they take part in, their own appointments, and the profile photos they may see. Domain
 * code reads health information only through this, so a missing check cannot load another
 * patient's data; privileged work (jobs, the demo, the admin's metadata views) asks for
 * `store.system()` by name instead.
 */
export class ScopedStore {
  readonly rooms: ScopedRooms;
  readonly messages: ScopedMessages;
  readonly appointments: ScopedAppointments;
  readonly files: ScopedFiles;
  readonly attachments: ScopedAttachments;

  constructor(
    sources: ScopeSources,
    readonly caller: Caller,
  ) {
    this.rooms = new ScopedRooms(sources.rooms, caller);
    this.messages = new ScopedMessages(sources.db, caller);
    this.appointments = new ScopedAppointments(sources.appointments, caller);
    this.files = new ScopedFiles(sources.db, caller);
    this.attachments = new ScopedAttachments(sources.db, caller);
  }
}

/** Appointments where the caller is the patient or the practitioner. */
export class ScopedAppointments {
  constructor(
    private readonly appointments: AppointmentRepository,
    private readonly caller: Caller,
  ) {}

  async find(id: string): Promise<AppointmentRow | undefined> {
    const a = await this.appointments.findById(id);
    return a && (a.patient_id === this.caller.id || a.practitioner_id === this.caller.id)
      ? a
      : undefined;
  }

  /** A new appointment the caller requests for themselves; never one for somebody else. */
  async insertOwn(row: AppointmentRow): Promise<void> {
    if (row.patient_id !== this.caller.id)
      throw new Error('an appointment is requested by its own patient');
    await this.appointments.insert(row);
  }

  /** The caller's appointments; `side` narrows to those where they are that party. */
  list(
    q: Omit<AppointmentQuery, 'userId'> & { side?: 'patient' | 'practitioner' },
  ): Promise<AppointmentRow[]> {
    const { side, ...rest } = q;
    return this.appointments.list({
      ...rest,
      ...(side === 'patient' ? { patientId: this.caller.id } : {}),
      ...(side === 'practitioner' ? { practitionerId: this.caller.id } : {}),
      userId: this.caller.id,
    });
  }
}

/**
 * Profile photos. The rule for who may see whose photo lives here and nowhere else: one's
 * own; any staff member's (practitioners and admins are who patients choose between); a
 * patient's only to the practitioners they have an appointment with and to admins, who
 * manage accounts. A file that is nobody's photo is not served at all.
 */
export class ScopedFiles {
  constructor(
    private readonly db: Kysely<DB>,
    private readonly caller: Caller,
  ) {}

  find(id: string): Promise<FileRow | undefined> {
    const { id: uid, role } = this.caller;
    const q = this.db
      .selectFrom('files')
      .innerJoin('users as owner', 'owner.photo_file_id', 'files.id')
      .selectAll('files')
      .where('files.id', '=', id)
      .limit(1);
    if (role === 'admin') return q.executeTakeFirst();
    return q
      .where((eb) =>
        eb.or([
          eb('owner.id', '=', uid),
          eb('owner.role', '<>', 'patient'),
          eb.exists(
            eb
              .selectFrom('appointments as a')
              .select('a.id')
              .whereRef('a.patient_id', '=', 'owner.id')
              .where('a.practitioner_id', '=', uid),
          ),
        ]),
      )
      .executeTakeFirst();
  }
}
