import { randomBytes, randomUUID } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { systemCtx, type Ctx } from '../domain/context.js';
import type { Role } from '../store/schema.js';
import type { WorkingHours } from '../shared/wire.js';
import { generateAvatar } from './avatar.js';
import type { Services } from './services.js';
import { seedConversations } from './demo-conversations.js';

export interface DemoAccount {
  role: Role;
  name: string;
  email: string;
  password: string;
}

interface DemoPerson {
  role: Role;
  name: string;
  email: string;
  specialty?: string;
  dateOfBirth?: string;
  outOfOffice?: string;
}

const weekdays = (start: string, end: string): WorkingHours =>
  [1, 2, 3, 4, 5].map((day) => ({ day, start, end }));

export const DEMO_PEOPLE: DemoPerson[] = [
  {
    role: 'patient',
    name: 'Carol Anderson',
    email: 'carol.anderson@example.com',
    dateOfBirth: '1968-04-12',
  },
  {
    role: 'patient',
    name: 'James Wilson',
    email: 'james.wilson@example.com',
    dateOfBirth: '1975-09-30',
  },
  {
    role: 'patient',
    name: 'Maria Garcia',
    email: 'maria.garcia@example.com',
    dateOfBirth: '1989-02-17',
  },
  {
    role: 'patient',
    name: 'Robert Chen',
    email: 'robert.chen@example.com',
    dateOfBirth: '1957-11-03',
  },
  {
    role: 'patient',
    name: 'Aisha Patel',
    email: 'aisha.patel@example.com',
    dateOfBirth: '1995-06-21',
  },
  {
    role: 'practitioner',
    name: 'Emily Davis',
    email: 'emily.davis@example.com',
    specialty: 'Family Medicine',
  },
  {
    role: 'practitioner',
    name: 'Michael Brown',
    email: 'michael.brown@example.com',
    specialty: 'Cardiology',
  },
  {
    role: 'practitioner',
    name: 'Sarah Johnson',
    email: 'sarah.johnson@example.com',
    specialty: 'Dermatology',
  },
  { role: 'admin', name: 'Alex Morgan', email: 'admin@example.com' },
];

/** Where a generated demo password is kept for a SQLite practice, so every start can print it. */
function passwordFile(services: Services): string | undefined {
  const url = services.config.databaseUrl;
  if (!url.startsWith('sqlite:') || url === 'sqlite::memory:') return undefined;
  return join(dirname(resolve(url.slice('sqlite:'.length))), 'demo-password.txt');
}

function demoPassword(services: Services, fresh: boolean): string | undefined {
  if (services.config.demoPassword) return services.config.demoPassword;
  const file = passwordFile(services);
  if (!fresh) return file && existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
  const generated = randomBytes(12).toString('base64url');
  if (file) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${generated}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return generated;
}

/**
 * Creates the demo practice on the first start with an empty store (when DEMO allows it)
 * and returns the logins to print. Everything goes through the same domain services the
 * app uses, so the demo cannot hold data the app itself could not make.
 */
export async function ensureDemoPractice(
  services: Services,
  opts: { force?: boolean } = {},
): Promise<{ created: boolean; accounts: DemoAccount[] } | undefined> {
  const enabled = services.config.demo ?? services.database.dialect === 'sqlite';
  if (!enabled && !opts.force) return undefined;
  const empty = (await services.store.users.count()) === 0;
  if (!empty) {
    const existing = await services.store.users.findByEmail(DEMO_PEOPLE[0]!.email);
    if (!existing) return undefined;
    const password =
      demoPassword(services, false) ??
      '(shown when the demo practice was created; `npm run seed -- --reset` makes a new one)';
    return {
      created: false,
      accounts: DEMO_PEOPLE.map((p) => ({ role: p.role, name: p.name, email: p.email, password })),
    };
  }
  const password = demoPassword(services, true)!;
  await createDemoPractice(services, password);
  return {
    created: true,
    accounts: DEMO_PEOPLE.map((p) => ({ role: p.role, name: p.name, email: p.email, password })),
  };
}

export async function createDemoPractice(services: Services, password: string): Promise<void> {
  const ctx: Ctx = systemCtx();
  const users = new Map<string, { id: string; role: Role; name: string }>();
  for (const p of DEMO_PEOPLE) {
    let photoFileId: string | null = null;
    if (p.role !== 'admin') {
      const data = await generateAvatar(p.email);
      photoFileId = randomUUID();
      await services.store.system().files.insert({
        id: photoFileId,
        owner_id: null,
        content_type: 'image/webp',
        byte_size: data.length,
        data,
        created_at: services.clock.now(),
      });
    }
    const row = await services.accounts.create(ctx, {
      role: p.role,
      email: p.email,
      name: p.name,
      password,
      dateOfBirth: p.dateOfBirth ?? null,
      specialty: p.specialty ?? null,
      workingHours: p.role === 'practitioner' ? weekdays('08:30', '17:30') : null,
      outOfOffice: p.outOfOffice ?? null,
      photoFileId,
    });
    users.set(p.name, { id: row.id, role: row.role, name: row.name });
  }
  await seedConversations(services, users);
}
