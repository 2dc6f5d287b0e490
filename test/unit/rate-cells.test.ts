import { describe, expect, it } from 'vitest';
import { LocalRateCells } from '../../src/bus/rate-cells.js';

describe('rate cells (a token bucket as one number per key)', () => {
  const interval = 100; // ten a second
  const tolerance = interval * 4; // bursts of five

  it('lets a burst through, then one per interval, and says how long to wait', () => {
    const cells = new LocalRateCells();
    const t0 = 1_000_000;
    for (let i = 0; i < 5; i++) expect(cells.takeNow('u', t0, interval, tolerance)).toBe(0);
    expect(cells.takeNow('u', t0, interval, tolerance)).toBe(100);
    expect(cells.takeNow('u', t0 + 60, interval, tolerance)).toBe(40);
    expect(cells.takeNow('u', t0 + 100, interval, tolerance)).toBe(0);
    expect(cells.takeNow('u', t0 + 100, interval, tolerance)).toBe(100);
    // Keys are independent.
    expect(cells.takeNow('v', t0, interval, tolerance)).toBe(0);
  });

  it('refills to a full burst after a quiet spell, never beyond it', () => {
    const cells = new LocalRateCells();
    const t0 = 5_000_000;
    for (let i = 0; i < 5; i++) cells.takeNow('u', t0, interval, tolerance);
    const later = t0 + 60 * 60_000;
    for (let i = 0; i < 5; i++) expect(cells.takeNow('u', later, interval, tolerance)).toBe(0);
    expect(cells.takeNow('u', later, interval, tolerance)).toBeGreaterThan(0);
  });
});
