import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { preview } from '../../src/domain/rooms.js';

/** The preview as first written: spread into characters, cut, joined. */
function spreadPreview(body: string): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  const chars = [...flat];
  return chars.length > 140 ? `${chars.slice(0, 139).join('')}…` : flat;
}

// Characters that exercise the cut: wide ones, surrogate pairs, lone surrogates, whitespace.
const piece = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom(' ', '\n\t ', '\u00a0', '😀', '\ud83d', '\ude00', 'é', 'a'),
);
const body = fc.array(piece, { maxLength: 40 }).map((parts) => parts.join(''));

describe('the room list preview', () => {
  it('is the spread-and-join preview, character for character', () => {
    fc.assert(
      fc.property(body, (b) => {
        expect(preview(b)).toBe(spreadPreview(b));
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['140 characters, kept whole', 'x'.repeat(140)],
    ['141 characters, cut', 'x'.repeat(141)],
    ['139 letters and a pair at the cut', `${'x'.repeat(139)}😀y`],
    ['140 pairs (280 units), kept whole', '😀'.repeat(140)],
    ['141 pairs, cut after 139', '😀'.repeat(141)],
    ['a lone lead surrogate before the end', `${'x'.repeat(140)}\ud83d`],
    ['whitespace runs around the cut', `${'a  '.repeat(100)}\n`],
  ])('%s', (_, b) => expect(preview(b)).toBe(spreadPreview(b)));
});
