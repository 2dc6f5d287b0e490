import { randomUUID } from 'node:crypto';
import type { AppointmentRow, AppointmentStatus, RoomRow, UserRow } from '../store/schema.js';
import type { Store } from '../store/store.js';
import {
  APPOINTMENT_MAX_YEARS_AHEAD,
  appointmentNoteSchema,
  appointmentReasonSchema,
  type AppointmentWire,
} from '../shared/wire.js';
import type { AppointmentQuery } from '../store/appointment-repository.js';
import { iso } from './clock.js';
import type { AuditAction } from '../shared/audit-actions.js';
import { auditEntry, type Ctx } from './context.js';
import type { Deps } from './deps.js';
import type { DomainEvent } from './events/events.js';
import { AppError, notFound, validationFailed } from './errors.js';
import { presentPerson } from './presenters.js';
import { parseField } from './validate.js';
import {
  can,
  PRACTICE,
  require,
  type AppointmentSubject,
  type Permission,
} from './access/policy.js';

export type AppointmentAction = 'accept' | 'decline' | 'cancel';

/** The state machine: which action moves which status where, and the permission it takes. */
const transitions: Record<
  AppointmentAction,
  { from: AppointmentStatus[]; to: AppointmentStatus; permission: Permission }
> = {
  accept: { from: ['requested'], to: 'accepted', permission: 'appointment.decide' },
  decline: { from: ['requested'], to: 'declined', permission: 'appointment.decide' },
  cancel: { from: ['requested', 'accepted'], to: 'cancelled', permission: 'appointment.cancel' },
};

export const appointmentSubject = (a: AppointmentRow): AppointmentSubject => ({
  kind: 'appointment',
  patientId: a.patient_id,
  practitionerId: a.practitioner_id,
});

/** The latest start an appointment requested at `now` may have. */
export function latestStart(now: number): number {
  const latest = new Date(now);
  latest.setUTCFullYear(latest.getUTCFullYear() + APPOINTMENT_MAX_YEARS_AHEAD);
  return latest.getTime();
}

export class AppointmentService {
  constructor(private readonly deps: Deps) {}

  async request(
    ctx: Ctx,
    input: { practitionerId: string; startsAt: string; reason: string },
  ): Promise<AppointmentWire> {
    require(ctx.actor, 'appointment.request', PRACTICE);
    const startsAt = Date.parse(input.startsAt);
    if (Number.isNaN(startsAt)) throw validationFailed('Enter a valid date and time', 'startsAt');
    const now = this.deps.clock.now();
    if (startsAt <= now) throw new AppError('appointment_in_past', 'Choose a time in the future');
    if (startsAt > latestStart(now))
      throw validationFailed(
        `Choose a time at most ${APPOINTMENT_MAX_YEARS_AHEAD} years ahead`,
        'startsAt',
      );
    const reason = parseField(appointmentReasonSchema, input.reason, 'reason');
    const row: AppointmentRow = {
      id: randomUUID(),
      patient_id: ctx.actor.id,
      practitioner_id: input.practitionerId,
      starts_at: startsAt,
      reason,
      status: 'requested',
      note: null,
      cancelled_by: null,
      created_at: now,
      updated_at: now,
    };
    await this.deps.store.transaction(async (tx) => {
      const practitioner = await tx.users.findById(input.practitionerId);
      if (
        !practitioner ||
        practitioner.role !== 'practitioner' ||
        practitioner.disabled_at !== null
      ) {
        throw notFound('Practitioner');
      }
      await tx.for(ctx).appointments.insertOwn(row);
      await this.audit(tx, ctx, 'appointment.request', row.id, now, { status: 'requested' });
      await this.deps.outbox.emit(tx, now, [
        {
          type: 'appointment.requested',
          appointmentId: row.id,
          patientId: row.patient_id,
          practitionerId: row.practitioner_id,
        },
      ]);
    });
    this.deps.bus.publish({
      t: 'appointment',
      appointmentId: row.id,
      userIds: [row.patient_id, row.practitioner_id],
    });
    return (await this.present(ctx, [row]))[0]!;
  }

  /**
   * Moves an appointment along the state machine. Accepting opens its chat room in the
   * same transaction, so an accepted appointment without a room cannot exist.
   */
  async transition(
    ctx: Ctx,
    id: string,
    action: AppointmentAction,
    note?: string,
  ): Promise<AppointmentWire> {
    const rule = transitions[action];
    const now = this.deps.clock.now();
    const cleanNote =
      note === undefined ? undefined : parseField(appointmentNoteSchema, note, 'note') || null;
    // Rooms opened or closed by this transition: their participants hear of it after commit.
    const changedRooms: string[] = [];
    const closedRooms: Extract<DomainEvent, { type: 'room.closed' }>[] = [];
    let opened: RoomRow | undefined;
    const updated = await this.deps.store.transaction(async (tx) => {
      const a = await this.load(tx, ctx, id);
      if (!a) throw notFound('Appointment');
      require(ctx.actor, rule.permission, appointmentSubject(a));
      if (!rule.from.includes(a.status)) {
        throw new AppError(
          'invalid_transition',
          `An appointment that is ${a.status} cannot be ${action === 'cancel' ? 'cancelled' : `${action}ed`}`,
        );
      }
      const moved = await tx.system().appointments.transition(id, a.status, rule.to, {
        updated_at: now,
        ...(cleanNote !== undefined ? { note: cleanNote } : {}),
        ...(action === 'cancel' ? { cancelled_by: ctx.actor.id } : {}),
      });
      // Another request moved it first: the conditional update is the tie-breaker.
      if (!moved)
        throw new AppError(
          'invalid_transition',
          'The appointment was changed by someone else; reload and try again',
        );
      if (action === 'accept') {
        const room: RoomRow = {
          id: randomUUID(),
          appointment_id: a.id,
          patient_id: a.patient_id,
          practitioner_id: a.practitioner_id,
          last_seq: 0,
          last_activity_at: now,
          created_at: now,
          open_until: a.starts_at + this.deps.roomOpenMs,
          closed_at: null,
          closed_reason: null,
        };
        await tx.system().rooms.insert(room);
        opened = room;
        await this.audit(tx, ctx, 'room.open', room.id, now, { appointmentId: a.id }, 'room');
        changedRooms.push(room.id);
      } else {
        // The conversation ends with the appointment, in the same transaction: no message
        // can slip in between the cancellation and the room's closing.
        const reason = action === 'cancel' ? 'appointment_cancelled' : 'appointment_declined';
        for (const closed of await tx.system().rooms.closeForAppointment(a.id, reason, now)) {
          await this.audit(tx, ctx, 'room.close', closed.id, now, { reason }, 'room');
          changedRooms.push(closed.id);
          closedRooms.push({
            type: 'room.closed',
            roomId: closed.id,
            appointmentId: a.id,
            reason,
            byUserId: ctx.actor.id,
          });
        }
      }
      await this.audit(tx, ctx, `appointment.${action}`, a.id, now, {
        from: a.status,
        to: rule.to,
      });
      const people = { patientId: a.patient_id, practitionerId: a.practitioner_id };
      await this.deps.outbox.emit(tx, now, [
        {
          type: 'appointment.changed',
          appointmentId: a.id,
          ...people,
          from: a.status,
          to: rule.to,
          byUserId: ctx.actor.id,
        },
        ...(opened
          ? [{ type: 'room.opened' as const, roomId: opened.id, appointmentId: a.id, ...people }]
          : []),
        ...closedRooms,
      ]);
      const row = await tx.system().appointments.findById(id);
      return row!;
    });
    const userIds = [updated.patient_id, updated.practitioner_id];
    this.deps.bus.publish({ t: 'appointment', appointmentId: updated.id, userIds });
    for (const roomId of changedRooms) this.deps.bus.publish({ t: 'room', roomId, userIds });
    return (await this.present(ctx, [updated]))[0]!;
  }

  async get(ctx: Ctx, id: string): Promise<AppointmentWire> {
    const a = await this.load(this.deps.store, ctx, id);
    if (!a) throw notFound('Appointment');
    const [presented] = await this.present(ctx, [a]);
    // The answer carries the reason: a read of health information like the list.
    await this.deps.readAudit.record(
      auditEntry(ctx, this.deps.clock.now(), 'appointment.read', { type: 'appointment', id }),
    );
    return presented!;
  }

  /**
   * An appointment as the caller may see it: their own, or any for whoever manages the
   * practice's appointments (who asks the system store for it by name).
   */
  private load(store: Store, ctx: Ctx, id: string): Promise<AppointmentRow | undefined> {
    return can(ctx.actor, 'appointments.all', PRACTICE)
      ? store.system().appointments.findById(id)
      : store.for(ctx).appointments.find(id);
  }

  /** Requests waiting for the caller's answer, as their practitioner. */
  async requestsToAnswer(ctx: Ctx, limit: number): Promise<AppointmentWire[]> {
    const rows = await this.deps.store
      .for(ctx)
      .appointments.list({ side: 'practitioner', status: 'requested', limit });
    return this.presentAudited(ctx, rows);
  }

  /** The caller's appointments (all of them for an admin), soonest first. */
  async list(
    ctx: Ctx,
    filter: {
      status?: AppointmentStatus | undefined;
      scope?: 'upcoming' | 'past' | 'all' | undefined;
      limit?: number | undefined;
    } = {},
  ): Promise<AppointmentWire[]> {
    const now = this.deps.clock.now();
    const query: AppointmentQuery = {
      status: filter.status,
      // Upcoming means still going to happen: declined and cancelled ones are not.
      statuses:
        filter.scope === 'upcoming' && !filter.status ? ['requested', 'accepted'] : undefined,
      from: filter.scope === 'upcoming' ? now : undefined,
      to: filter.scope === 'past' ? now : undefined,
      limit: filter.limit ?? 500,
    };
    const rows = can(ctx.actor, 'appointments.all', PRACTICE)
      ? await this.deps.store.system().appointments.list(query)
      : await this.deps.store.for(ctx).appointments.list(query);
    return this.presentAudited(ctx, rows);
  }

  private async presentAudited(
    ctx: Ctx,
    rows: readonly AppointmentRow[],
  ): Promise<AppointmentWire[]> {
    const presented = await this.present(ctx, rows);
    if (presented.length > 0) {
      // Reasons for appointments are health information: reading them is audited.
      await this.deps.readAudit.record(
        auditEntry(
          ctx,
          this.deps.clock.now(),
          'appointment.list',
          { type: 'user', id: ctx.actor.id },
          { count: presented.length },
        ),
      );
    }
    return presented;
  }

  /** Every appointment of the practice, for an admin; anyone else is told it does not exist. */
  async adminList(
    ctx: Ctx,
    filter: {
      status?: AppointmentStatus | undefined;
      scope?: 'upcoming' | 'past' | 'all' | undefined;
    },
  ): Promise<AppointmentWire[]> {
    require(ctx.actor, 'appointments.all', PRACTICE);
    return this.list(ctx, filter);
  }

  /** Presents rows with their people and rooms in a fixed number of queries. */
  /** Presents rows for the caller, with what the caller may do with each (`permissions`). */
  async present(ctx: Ctx, rows: readonly AppointmentRow[]): Promise<AppointmentWire[]> {
    // The rows were loaded for this caller already; their people and room ids are metadata.
    const store = this.deps.store.system();
    const ids = [...new Set(rows.flatMap((r) => [r.patient_id, r.practitioner_id]))];
    const [users, rooms] = await Promise.all([
      store.users.findManyByIds(ids),
      store.rooms.findManyByAppointments(rows.map((r) => r.id)),
    ]);
    const byId = new Map<string, UserRow>(users.map((u) => [u.id, u]));
    const roomByAppointment = new Map(rooms.map((r) => [r.appointment_id, r.id]));
    return rows.map((r) => ({
      id: r.id,
      patient: presentPerson(byId.get(r.patient_id)!),
      practitioner: presentPerson(byId.get(r.practitioner_id)!),
      startsAt: iso(r.starts_at),
      reason: r.reason,
      status: r.status,
      note: r.note,
      roomId: roomByAppointment.get(r.id) ?? null,
      permissions: {
        decide:
          transitions.accept.from.includes(r.status) &&
          can(ctx.actor, 'appointment.decide', appointmentSubject(r)),
        cancel:
          transitions.cancel.from.includes(r.status) &&
          can(ctx.actor, 'appointment.cancel', appointmentSubject(r)),
      },
      createdAt: iso(r.created_at),
      updatedAt: iso(r.updated_at),
    }));
  }

  private audit(
    tx: Store,
    ctx: Ctx,
    action: AuditAction,
    targetId: string,
    at: number,
    detail: Record<string, string>,
    targetType = 'appointment',
  ): Promise<void> {
    return tx.audit.record(auditEntry(ctx, at, action, { type: targetType, id: targetId }, detail));
  }
}
