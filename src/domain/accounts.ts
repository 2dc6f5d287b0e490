import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Role, UserRow, UserUpdate } from '../store/schema.js';
import {
  outOfOfficeSchema,
  personNameSchema,
  specialtySchema,
  workingHoursSchema,
  type WorkingHours,
} from '../shared/wire.js';
import { auditEntry, type Ctx } from './context.js';
import type { Deps } from './deps.js';
import { AppError, notFound, validationFailed } from './errors.js';
import { can, PRACTICE, refusal, require } from './access/policy.js';
import { hashPassword, passwordProblem } from './passwords.js';
import { parseField } from './validate.js';

export const emailSchema = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email({ error: 'Enter a valid email address' }));

export interface NewAccount {
  role: Role;
  email: string;
  name: string;
  password: string;
  dateOfBirth?: string | null | undefined;
  specialty?: string | null | undefined;
  workingHours?: WorkingHours | null | undefined;
  outOfOffice?: string | null | undefined;
  photoFileId?: string | null | undefined;
}

export interface AccountChanges {
  name?: string | undefined;
  email?: string | undefined;
  specialty?: string | null | undefined;
  dateOfBirth?: string | null | undefined;
  workingHours?: WorkingHours | null | undefined;
  outOfOffice?: string | null | undefined;
  disabled?: boolean | undefined;
}

const managesUsers = (ctx: Ctx) => can(ctx.actor, 'users.manage', PRACTICE);

/** What anyone may change about their own account; everything else is the admin's. */
const SELF_EDITABLE = new Set<keyof AccountChanges>(['name', 'workingHours', 'outOfOffice']);

const checkName = (raw: string): string => parseField(personNameSchema, raw, 'name');

/** Optional text: the text policy, and empty means none. */
function checkSpecialty(raw: string | null | undefined): string | null {
  return raw ? parseField(specialtySchema, raw, 'specialty') || null : null;
}
function checkOutOfOffice(raw: string | null | undefined): string | null {
  return raw ? parseField(outOfOfficeSchema, raw, 'outOfOffice') || null : null;
}

function checkWorkingHours(value: WorkingHours | null | undefined): void {
  if (value && !workingHoursSchema.safeParse(value).success)
    throw validationFailed('Working hours are not valid', 'workingHours');
}

/** Working hours and out-of-office notices only mean something for practitioners. */
function checkPractitionerOnly(role: Role, input: AccountChanges | NewAccount): void {
  if (role === 'practitioner') return;
  for (const field of ['workingHours', 'outOfOffice', 'specialty'] as const) {
    if (input[field] !== undefined && input[field] !== null)
      throw validationFailed(`Only practitioners have ${field}`, field);
  }
}

export class AccountService {
  constructor(private readonly deps: Deps) {}

  async create(ctx: Ctx, input: NewAccount): Promise<UserRow> {
    require(ctx.actor, 'users.manage', PRACTICE);
    const email = emailSchema.safeParse(input.email);
    if (!email.success) throw validationFailed('Enter a valid email address', 'email');
    const problem = passwordProblem(input.password);
    if (problem) throw validationFailed(problem, 'password');
    const name = checkName(input.name);
    checkPractitionerOnly(input.role, input);
    checkWorkingHours(input.workingHours);
    const hash = await hashPassword(input.password, this.deps.passwordParams);
    const now = this.deps.clock.now();
    const row: UserRow = {
      id: randomUUID(),
      role: input.role,
      email: email.data,
      email_lower: email.data.toLowerCase(),
      name,
      password_hash: hash,
      date_of_birth: input.dateOfBirth ?? null,
      specialty: input.role === 'practitioner' ? checkSpecialty(input.specialty) : null,
      working_hours: input.workingHours ? JSON.stringify(input.workingHours) : null,
      out_of_office: checkOutOfOffice(input.outOfOffice),
      photo_file_id: input.photoFileId ?? null,
      disabled_at: null,
      created_at: now,
      updated_at: now,
    };
    await this.deps.store.transaction(async (tx) => {
      if (await tx.users.findByEmail(row.email_lower)) {
        throw new AppError('email_taken', 'An account with this email address already exists');
      }
      if (!(await tx.users.insert(row))) {
        throw new AppError('email_taken', 'An account with this email address already exists');
      }
      await tx.audit.record(
        auditEntry(ctx, now, 'user.create', { type: 'user', id: row.id }, { role: row.role }),
      );
    });
    return row;
  }

  async update(ctx: Ctx, id: string, changes: AccountChanges): Promise<UserRow> {
    const self = ctx.actor.id === id;
    const account = { kind: 'account', userId: id } as const;
    if (!managesUsers(ctx)) {
      require(ctx.actor, 'account.update', account);
      const fields = Object.entries(changes)
        .filter(([, v]) => v !== undefined)
        .map(([k]) => k as keyof AccountChanges);
      if (fields.some((f) => !SELF_EDITABLE.has(f)))
        throw refusal(ctx.actor, 'account.update', account);
    }
    if (self && changes.disabled)
      throw new AppError('conflict', 'You cannot disable your own account');
    checkWorkingHours(changes.workingHours);
    const now = this.deps.clock.now();
    let endedSessions: string[] = [];
    const updated = await this.deps.store.transaction(async (tx) => {
      const user = await tx.users.findById(id);
      if (!user) throw notFound('User');
      checkPractitionerOnly(user.role, changes);
      const set: UserUpdate = { updated_at: now };
      if (changes.name !== undefined) set.name = checkName(changes.name);
      if (changes.email !== undefined) {
        const email = emailSchema.safeParse(changes.email);
        if (!email.success) throw validationFailed('Enter a valid email address', 'email');
        const other = await tx.users.findByEmail(email.data);
        if (other && other.id !== id)
          throw new AppError('email_taken', 'An account with this email address already exists');
        set.email = email.data;
        set.email_lower = email.data.toLowerCase();
      }
      if (changes.specialty !== undefined) set.specialty = checkSpecialty(changes.specialty);
      if (changes.dateOfBirth !== undefined) set.date_of_birth = changes.dateOfBirth;
      if (changes.workingHours !== undefined) {
        set.working_hours = changes.workingHours ? JSON.stringify(changes.workingHours) : null;
      }
      if (changes.outOfOffice !== undefined)
        set.out_of_office = checkOutOfOffice(changes.outOfOffice);
      if (changes.disabled !== undefined)
        set.disabled_at = changes.disabled ? (user.disabled_at ?? now) : null;
      await tx.users.update(id, set);
      if (changes.disabled) {
        endedSessions = await tx.sessions.deleteForUser(id);
        await this.deps.outbox.emit(tx, now, [
          { type: 'session.ended', userId: id, sessionIds: endedSessions, reason: 'disabled' },
        ]);
      }
      await tx.audit.record(
        auditEntry(
          ctx,
          now,
          changes.disabled === true
            ? 'user.disable'
            : changes.disabled === false
              ? 'user.enable'
              : 'user.update',
          { type: 'user', id: id },
          {
            fields: Object.keys(changes)
              .filter((k) => changes[k as keyof AccountChanges] !== undefined)
              .sort()
              .join(','),
          },
        ),
      );
      const row = await tx.users.findById(id);
      if (!row) throw notFound('User');
      return row;
    });
    if (changes.disabled) {
      this.deps.bus.publish({
        t: 'session.ended',
        userId: id,
        sessionIds: endedSessions,
        reason: 'disabled',
      });
    }
    return updated;
  }

  async resetPassword(ctx: Ctx, id: string, password: string): Promise<void> {
    require(ctx.actor, 'users.manage', PRACTICE);
    const problem = passwordProblem(password);
    if (problem) throw validationFailed(problem, 'password');
    const hash = await hashPassword(password, this.deps.passwordParams);
    const now = this.deps.clock.now();
    const ended = await this.deps.store.transaction(async (tx) => {
      if (!(await tx.users.findById(id))) throw notFound('User');
      await tx.users.update(id, { password_hash: hash, updated_at: now });
      const ended = await tx.sessions.deleteForUser(id);
      await tx.audit.record(auditEntry(ctx, now, 'user.password_reset', { type: 'user', id: id }));
      await this.deps.outbox.emit(tx, now, [
        { type: 'session.ended', userId: id, sessionIds: ended, reason: 'password_reset' },
      ]);
      return ended;
    });
    this.deps.bus.publish({
      t: 'session.ended',
      userId: id,
      sessionIds: ended,
      reason: 'password_reset',
    });
  }

  async list(
    ctx: Ctx,
    filter: { role?: Role | undefined; query?: string | undefined },
  ): Promise<UserRow[]> {
    require(ctx.actor, 'users.manage', PRACTICE);
    const users = await this.deps.store.users.list(filter);
    // The list shows patients' dates of birth: who looked is recorded, not what they searched.
    await this.deps.readAudit.record(
      auditEntry(
        ctx,
        this.deps.clock.now(),
        'user.list',
        { type: 'user', id: null },
        { count: users.length, role: filter.role ?? null, searched: Boolean(filter.query) },
      ),
    );
    return users;
  }

  async get(ctx: Ctx, id: string): Promise<UserRow> {
    require(ctx.actor, 'account.read', { kind: 'account', userId: id });
    const user = await this.deps.store.users.findById(id);
    if (!user) throw notFound('User');
    return user;
  }
}
