import { randomUUID } from 'node:crypto';
import type { Ctx } from '../domain/context.js';
import type { Role } from '../store/schema.js';
import type { Services } from './services.js';

type DemoUser = { id: string; role: Role; name: string };

const DAY = 86_400_000;

/** Days from now at a given local-ish hour (UTC), always in the future. */
function at(now: number, days: number, hour: number): string {
  const d = new Date(now + days * DAY);
  d.setUTCHours(hour, 0, 0, 0);
  return d.toISOString();
}

interface Script {
  patient: string;
  practitioner: string;
  days: number;
  hour: number;
  reason: string;
  status: 'accepted' | 'requested';
  messages?: [from: 'patient' | 'practitioner', body: string][];
}

const SCRIPTS: Script[] = [
  {
    patient: 'Carol Anderson',
    practitioner: 'Emily Davis',
    days: 2,
    hour: 9,
    reason: 'Follow-up on blood pressure readings',
    status: 'accepted',
    messages: [
      ['patient', 'Good morning Dr. Davis, my home readings have been around 135/85 this week.'],
      [
        'practitioner',
        'Thanks Carol, that is a good improvement. Keep logging them twice a day until our appointment.',
      ],
      ['patient', 'Will do. Should I keep taking the evening dose as well?'],
    ],
  },
  {
    patient: 'Carol Anderson',
    practitioner: 'Emily Davis',
    days: 30,
    hour: 10,
    reason: 'Annual check-up',
    status: 'accepted',
    messages: [
      [
        'practitioner',
        'Hi Carol, please remember to book your fasting blood test before the check-up.',
      ],
    ],
  },
  {
    patient: 'James Wilson',
    practitioner: 'Emily Davis',
    days: 0.2,
    hour: 14,
    reason: 'Persistent cough for two weeks',
    status: 'accepted',
    messages: [
      ['patient', 'The cough is still there, mostly at night.'],
      ['practitioner', 'Thank you James. Any fever or shortness of breath?'],
    ],
  },
  {
    patient: 'Maria Garcia',
    practitioner: 'Michael Brown',
    days: 5,
    hour: 11,
    reason: 'Palpitations after exercise',
    status: 'accepted',
    messages: [
      ['patient', 'I wore the heart monitor for 48 hours as asked.'],
      ['practitioner', 'Great, the results arrived. We will go through them together on Friday.'],
    ],
  },
  {
    patient: 'Robert Chen',
    practitioner: 'Sarah Johnson',
    days: 7,
    hour: 15,
    reason: 'Mole check',
    status: 'accepted',
    messages: [
      ['patient', 'I uploaded a photo last week, has it come through?'],
      [
        'practitioner',
        'Yes Robert, it looks fine, but let us take a closer look at the appointment.',
      ],
    ],
  },
  {
    patient: 'Aisha Patel',
    practitioner: 'Emily Davis',
    days: 3,
    hour: 16,
    reason: 'Travel vaccinations',
    status: 'requested',
  },
  {
    patient: 'Carol Anderson',
    practitioner: 'Michael Brown',
    days: 12,
    hour: 9,
    reason: 'Cardiology referral',
    status: 'requested',
  },
];

const ctxOf = (u: DemoUser): Ctx => ({ actor: { id: u.id, role: u.role, name: u.name }, ip: null });

/**
 * The demo practice's appointments, rooms and messages, made through the same services
 * the app uses: patients request, practitioners accept (which opens each room), and
 * both sides write. Carol and Dr. Davis share two rooms, one per accepted appointment.
 */
export async function seedConversations(
  services: Services,
  users: ReadonlyMap<string, DemoUser>,
): Promise<void> {
  const now = services.clock.now();
  for (const s of SCRIPTS) {
    const patient = users.get(s.patient)!;
    const practitioner = users.get(s.practitioner)!;
    const appt = await services.appointments.request(ctxOf(patient), {
      practitionerId: practitioner.id,
      startsAt: at(now, Math.max(1, Math.ceil(s.days)), s.hour),
      reason: s.reason,
    });
    if (s.status !== 'accepted') continue;
    const accepted = await services.appointments.transition(ctxOf(practitioner), appt.id, 'accept');
    const roomId = accepted.roomId!;
    for (const [from, body] of s.messages ?? []) {
      const sender = from === 'patient' ? patient : practitioner;
      await services.messages.send(ctxOf(sender), roomId, { clientId: randomUUID(), body });
    }
  }
}
