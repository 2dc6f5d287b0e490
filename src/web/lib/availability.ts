import type { PractitionerWire } from '../../shared/wire.js';

const minutes = (hhmm: string): number => {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

/** Out of office, or outside the practitioner's working hours (in the reader's local time). */
export function availabilityNotice(
  p: Pick<PractitionerWire, 'name' | 'outOfOffice' | 'workingHours'>,
  now = new Date(),
): string | null {
  if (p.outOfOffice) return `${p.name} is away: ${p.outOfOffice}`;
  const hours = p.workingHours;
  if (!hours || hours.length === 0) return null;
  const day = now.getDay();
  const at = now.getHours() * 60 + now.getMinutes();
  const working = hours.some((h) => h.day === day && at >= minutes(h.start) && at < minutes(h.end));
  return working
    ? null
    : `${p.name} is outside working hours now and will read your message when back.`;
}
