/**
 * Seeds a fresh carechat database for one scenario and writes the session tokens the
 * generator will present. The first pair's accounts are created through the domain
 * (AccountService, real password hashing); the rest are inserted in bulk with the same
 * password hash, because hashing is slow on purpose. Appointments, rooms, members,
 * sessions and history messages are bulk inserts through Kysely, in transactions.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { Insertable, Kysely } from 'kysely';
import pino from 'pino';
import { LocalBus } from '../src/bus/bus.js';
import { AuditWriter } from '../src/domain/audit-writer.js';
import { AccountService } from '../src/domain/accounts.js';
import { systemClock } from '../src/domain/clock.js';
import { systemCtx } from '../src/domain/context.js';
import { Outbox } from '../src/domain/events/outbox.js';
import { ProcessorRegistry } from '../src/domain/events/processor.js';
import { OWASP_SCRYPT } from '../src/domain/passwords.js';
import { noTelemetry } from '../src/domain/telemetry.js';
import { migrateToLatest, openDatabase } from '../src/store/database.js';
import type { DB, MessageRow, UserRow } from '../src/store/schema.js';
import { Store } from '../src/store/store.js';
import type { BenchPair, BenchUser, SeedFile } from './lib/protocol.js';

export interface SeedOptions {
  /** A SQLite file, or with `databaseUrl` unused. */
  dbPath: string;
  /** A store URL instead of the file (postgres://…?schema=… for the two-process scenario). */
  databaseUrl?: string;
  seedPath: string;
  /** Patient–practitioner conversations, one room each. */
  pairs: number;
  /** Distinct practitioners; pair i belongs to practitioner i mod this. Default: one a pair. */
  practitioners?: number;
  /** History stored in every room before the server starts. */
  messagesPerRoom?: number;
}

const PASSWORD = 'bench password for every account';
const CHUNK = 500;

async function insertChunked<T extends keyof DB>(
  db: Kysely<DB>,
  table: T,
  rows: readonly Insertable<DB[T]>[],
  columns: number,
): Promise<void> {
  // SQLite allows 32,766 bound parameters a statement.
  const size = Math.max(1, Math.min(CHUNK, Math.floor(30_000 / columns)));
  for (let i = 0; i < rows.length; i += size) {
    await db
      .insertInto(table)
      .values(rows.slice(i, i + size))
      .execute();
  }
}

export async function seed(opts: SeedOptions): Promise<SeedFile> {
  const database = openDatabase(opts.databaseUrl ?? `sqlite:${opts.dbPath}`);
  try {
    await migrateToLatest(database);
    const store = Store.from(database);
    const now = Date.now();
    const practitionerCount = Math.min(opts.practitioners ?? opts.pairs, opts.pairs);

    const accounts = new AccountService({
      store,
      readAudit: new AuditWriter(store),
      outbox: new Outbox(new ProcessorRegistry()),
      clock: systemClock,
      bus: new LocalBus(),
      log: pino({ level: 'silent' }),
      telemetry: noTelemetry,
      passwordParams: OWASP_SCRYPT,
      session: { idleMs: 15 * 60_000, absoluteMs: 12 * 3600_000 },
      loginLimits: { perAccount: 5, perIp: 30, windowMs: 15 * 60_000 },
      roomOpenMs: 30 * 86_400_000,
    });
    const emails = {
      patient: 'bench.patient.0@example.com',
      practitioner: 'bench.practitioner.0@example.com',
    };
    const firstPatient = await accounts.create(systemCtx(), {
      role: 'patient',
      name: 'Bench Patient 0',
      email: emails.patient,
      password: PASSWORD,
      dateOfBirth: '1980-01-01',
    });
    const firstPractitioner = await accounts.create(systemCtx(), {
      role: 'practitioner',
      name: 'Bench Practitioner 0',
      email: emails.practitioner,
      password: PASSWORD,
      specialty: 'General Practice',
    });

    const hash = firstPatient.password_hash;
    const user = (role: 'patient' | 'practitioner', i: number): UserRow => ({
      id: randomUUID(),
      role,
      email: `bench.${role}.${i}@example.com`,
      email_lower: `bench.${role}.${i}@example.com`,
      name: `Bench ${role === 'patient' ? 'Patient' : 'Practitioner'} ${i}`,
      password_hash: hash,
      date_of_birth: role === 'patient' ? '1980-01-01' : null,
      specialty: role === 'practitioner' ? 'General Practice' : null,
      working_hours: null,
      out_of_office: null,
      photo_file_id: null,
      disabled_at: null,
      created_at: now,
      updated_at: now,
    });
    const patients = [firstPatient];
    for (let i = 1; i < opts.pairs; i++) patients.push(user('patient', i));
    const practitioners = [firstPractitioner];
    for (let i = 1; i < practitionerCount; i++) practitioners.push(user('practitioner', i));

    const sessions = new Map<string, BenchUser>();
    const sessionRows = [...patients, ...practitioners].map((u) => {
      const token = randomBytes(32).toString('base64url');
      const csrf = randomBytes(32).toString('base64url');
      sessions.set(u.id, { id: u.id, token, csrf });
      return {
        id_hash: createHash('sha256').update(token).digest('hex'),
        user_id: u.id,
        csrf_token: csrf,
        created_at: now,
        last_seen_at: now,
        ip: '127.0.0.1',
        user_agent: 'carechat-bench',
      };
    });

    const perRoom = opts.messagesPerRoom ?? 0;
    const pairs: BenchPair[] = [];
    const appointments: DB['appointments'][] = [];
    const rooms: DB['rooms'][] = [];
    const members: Insertable<DB['room_members']>[] = [];
    for (let i = 0; i < opts.pairs; i++) {
      const patient = patients[i]!;
      const practitioner = practitioners[i % practitionerCount]!;
      const appointmentId = randomUUID();
      const roomId = randomUUID();
      appointments.push({
        id: appointmentId,
        patient_id: patient.id,
        practitioner_id: practitioner.id,
        starts_at: now - 86_400_000 + i * 1000,
        reason: 'Follow-up',
        status: 'accepted',
        note: null,
        cancelled_by: null,
        created_at: now - 2 * 86_400_000,
        updated_at: now - 86_400_000,
      });
      rooms.push({
        id: roomId,
        appointment_id: appointmentId,
        patient_id: patient.id,
        practitioner_id: practitioner.id,
        last_seq: perRoom,
        last_activity_at: now - (opts.pairs - i) * 1000,
        created_at: now - 86_400_000,
        // Open for the whole run: the benchmark measures sending, not the lifecycle.
        open_until: now + 365 * 86_400_000,
        closed_at: null,
        closed_reason: null,
      });
      // People have read nearly everything, as in a practice that is in use. The patient
      // writes the odd seqs of the seeded history and the practitioner the even ones.
      const read = Math.max(0, perRoom - (i % 4));
      const evens = (n: number) => Math.floor(n / 2);
      const odds = (n: number) => Math.ceil(n / 2);
      for (const [u, received] of [
        [patient, evens],
        [practitioner, odds],
      ] as const) {
        members.push({
          room_id: roomId,
          user_id: u.id,
          read_seq: read,
          delivered_seq: perRoom,
          archived_at: null,
          received_count: received(perRoom),
          read_received: received(read),
        });
      }
      pairs.push({
        roomId,
        lastSeq: perRoom,
        patient: sessions.get(patient.id)!,
        practitioner: sessions.get(practitioner.id)!,
      });
    }

    await database.db.transaction().execute(async (trx) => {
      await insertChunked(trx, 'users', patients.slice(1), 14);
      await insertChunked(trx, 'users', practitioners.slice(1), 14);
      await insertChunked(trx, 'appointments', appointments, 10);
      await insertChunked(trx, 'rooms', rooms, 7);
      await insertChunked(trx, 'room_members', members, 5);
      await insertChunked(trx, 'sessions', sessionRows, 7);
    });

    if (perRoom > 0) await seedHistory(database.db, rooms, perRoom, now);

    const file: SeedFile = { pairs, password: PASSWORD, emails };
    writeFileSync(opts.seedPath, JSON.stringify(file));
    return file;
  } finally {
    await database.close();
  }
}

/** Stored conversations: `perRoom` messages a room, alternating senders, in 50k-row commits. */
async function seedHistory(
  db: Kysely<DB>,
  rooms: readonly DB['rooms'][],
  perRoom: number,
  now: number,
): Promise<void> {
  const filler = 'Thank you, the new dose works better; I will keep the diary as agreed. '.repeat(
    3,
  );
  let batch: MessageRow[] = [];
  const flush = async () => {
    const rows = batch;
    batch = [];
    await db.transaction().execute((trx) => insertChunked(trx, 'messages', rows, 9));
  };
  for (let r = 0; r < rooms.length; r++) {
    const room = rooms[r]!;
    for (let seq = 1; seq <= perRoom; seq++) {
      batch.push({
        id: randomUUID(),
        room_id: room.id,
        seq,
        sender_id: seq % 2 === 1 ? room.patient_id : room.practitioner_id,
        client_id: `seed-${r}-${seq}`,
        body: `#${seq} ${filler}`.slice(0, 200),
        created_at: now - (perRoom - seq) * 60_000,
        edited_at: null,
        deleted_at: null,
        attachments: null,
      });
      if (batch.length >= 50_000) await flush();
    }
  }
  if (batch.length > 0) await flush();
}
