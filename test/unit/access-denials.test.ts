import { describe, expect, it } from 'vitest';
import { AccessDenials } from '../../src/domain/audit/denied.js';
import { ManualClock } from '../../src/domain/clock.js';
import type { AuditEntry } from '../../src/store/audit-repository.js';

function recorder() {
  const rows: AuditEntry[] = [];
  return { rows, writer: { record: (e: AuditEntry) => Promise.resolve(void rows.push(e)) } };
}

const asked = { code: 'not_found', method: 'GET', route: '/api/rooms/:id', targetId: 'r1' };

describe('access.denied throttling', () => {
  it('keeps a budget per caller and code, and carries the held-back count into the next minute', async () => {
    const { rows, writer } = recorder();
    const clock = new ManualClock();
    const denials = new AccessDenials(writer, clock, 2);
    const alice = { actor: { id: 'alice', role: 'patient' as const }, ip: '10.0.0.1' };
    for (let i = 0; i < 5; i++) await denials.record(alice, asked);
    await denials.record(alice, { ...asked, code: 'csrf_invalid' });
    await denials.record({ actor: null, ip: '10.0.0.1' }, asked);
    expect(rows.map((r) => [r.actorId, r.detail?.code])).toEqual([
      ['alice', 'not_found'],
      ['alice', 'not_found'],
      ['alice', 'csrf_invalid'],
      [null, 'not_found'],
    ]);
    clock.advance(60_000);
    await denials.record(alice, asked);
    expect(rows.at(-1)!.detail).toMatchObject({ code: 'not_found', suppressedBefore: 3 });
  });

  it('cannot be flooded from many addresses: past its capacity they share one budget', async () => {
    const { rows, writer } = recorder();
    const denials = new AccessDenials(writer, new ManualClock(), 3);
    for (let i = 0; i < 1_200; i++)
      await denials.record({ actor: null, ip: `198.51.${i >> 8}.${i & 255}` }, asked);
    // 1,000 callers get their first row each; the other 200 share a budget of 3.
    expect(rows).toHaveLength(1_000 + 3);
    expect(rows.at(-1)!.detail).toMatchObject({ shared: true });
  });
});
