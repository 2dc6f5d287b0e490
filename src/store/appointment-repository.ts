import type { Kysely } from 'kysely';
import type { AppointmentRow, AppointmentStatus, DB } from './schema.js';

export interface AppointmentQuery {
  userId?: string | undefined;
  patientId?: string | undefined;
  practitionerId?: string | undefined;
  status?: AppointmentStatus | undefined;
  statuses?: readonly AppointmentStatus[] | undefined;
  from?: number | undefined;
  to?: number | undefined;
  limit?: number | undefined;
}

export class AppointmentRepository {
  constructor(private readonly db: Kysely<DB>) {}

  async insert(row: AppointmentRow): Promise<void> {
    await this.db.insertInto('appointments').values(row).execute();
  }

  findById(id: string): Promise<AppointmentRow | undefined> {
    return this.db.selectFrom('appointments').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Conditional update: succeeds only from the expected status, so two racing transitions cannot both win. */
  async transition(
    id: string,
    from: AppointmentStatus,
    to: AppointmentStatus,
    changes: { note?: string | null; cancelled_by?: string | null; updated_at: number },
  ): Promise<boolean> {
    const res = await this.db
      .updateTable('appointments')
      .set({ status: to, ...changes })
      .where('id', '=', id)
      .where('status', '=', from)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  list(q: AppointmentQuery): Promise<AppointmentRow[]> {
    let query = this.db.selectFrom('appointments').selectAll().orderBy('starts_at').orderBy('id');
    if (q.userId) {
      const uid = q.userId;
      query = query.where((eb) =>
        eb.or([eb('patient_id', '=', uid), eb('practitioner_id', '=', uid)]),
      );
    }
    if (q.patientId) query = query.where('patient_id', '=', q.patientId);
    if (q.practitionerId) query = query.where('practitioner_id', '=', q.practitionerId);
    if (q.status) query = query.where('status', '=', q.status);
    if (q.statuses) query = query.where('status', 'in', q.statuses);
    if (q.from !== undefined) query = query.where('starts_at', '>=', q.from);
    if (q.to !== undefined) query = query.where('starts_at', '<', q.to);
    if (q.limit !== undefined) query = query.limit(q.limit);
    return query.execute();
  }

  findManyByIds(ids: readonly string[]): Promise<AppointmentRow[]> {
    if (ids.length === 0) return Promise.resolve([]);
    return this.db.selectFrom('appointments').selectAll().where('id', 'in', ids).execute();
  }
}
