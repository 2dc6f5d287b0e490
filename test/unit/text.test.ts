import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fieldProblem,
  hasLoneSurrogate,
  hasVisibleCharacter,
  multiLineText,
  normalizeText,
  singleLineText,
} from '../../src/shared/text.js';

const name = singleLineText({ label: 'Name', max: 20, required: true });
const body = multiLineText({ label: 'Message', max: 50, required: true });
const note = multiLineText({ label: 'Note', max: 50 });

const problem = (schema: typeof name, value: string) => {
  const parsed = schema.safeParse(value);
  return parsed.success ? undefined : parsed.error.issues[0]?.message;
};

describe('the text policy', () => {
  it.each([
    ['NUL', 'Ann\u0000e'],
    ['an ANSI escape', '\u001b[31mAnne'],
    ['DEL', 'Ann\u007fe'],
    ['a C1 control (CSI)', 'Ann\u009b31me'],
    ['a C1 control (NEL)', 'Ann\u0085e'],
    ['a lone high surrogate', 'Ann\ud800e'],
    ['a lone low surrogate', 'Anne\udc00'],
    ['a line break', 'Anne\nSmith'],
    ['a tab', 'Anne\tSmith'],
  ])('refuses a name with %s', (_what, value) => {
    expect(problem(name, value)).toMatch(/contains/);
  });

  it.each([
    ['zero-width spaces', '\u200b\u200b'],
    ['a Hangul filler', '\u3164'],
    ['the halfwidth Hangul filler', '\uffa0'],
    ['a blank Braille pattern', '\u2800\u2800'],
    ['a word joiner and a byte-order mark inside', '\u2060\ufeff\u200b'],
    ['combining marks alone', '\u0301\u0308'],
    ['a variation selector', '\ufe0f'],
    ['ideographic and no-break spaces around a zero-width space', '\u3000\u200b\u00a0'],
  ])('refuses a name made only of %s', (_what, value) => {
    expect(problem(name, value)).toBe('Name must contain a visible character');
  });

  it('refuses an empty or white-space-only required value, and lets an optional one be empty', () => {
    for (const value of ['', '   ', '\n\t ', '\ufeff'])
      expect(problem(name, value)).toBe('Name is required');
    expect(note.parse(' \n ')).toBe('');
    // Given, an optional value still needs something visible.
    expect(problem(note, '\u200b')).toBe('Note must contain a visible character');
  });

  it('keeps line breaks and tabs in multi-line text, as LF, but no other controls', () => {
    expect(body.parse('  Dose:\tmorning\r\nand\revening  ')).toBe('Dose:\tmorning\nand\nevening');
    expect(problem(body, 'a\u0000b')).toBe('Message contains control characters');
    expect(problem(body, 'a\u009bb')).toBe('Message contains control characters');
    expect(problem(body, 'a\u001b[2Jb')).toBe('Message contains control characters');
    expect(problem(body, 'ok \ud83d')).toBe('Message contains an invalid character');
  });

  it('stores NFC and counts characters as code points', () => {
    expect(name.parse('Jose\u0301')).toBe('José');
    expect(name.parse('😀'.repeat(20))).toHaveLength(40);
    expect(problem(name, '😀'.repeat(21))).toBe('Name must be at most 20 characters');
    // Emoji sequences joined by U+200D are visible text, not invisible filler.
    expect(name.parse('👩‍⚕️')).toBe('👩‍⚕️');
  });

  it('accepts ordinary names in any script', () => {
    for (const value of ['Zoë Ødegaard', '李小龙', 'محمد', 'Ngũgĩ', "O'Brien-Smith", '한국어'])
      expect(name.parse(value)).toBe(value);
    expect(hasVisibleCharacter('\u200bA')).toBe(true);
  });

  it('tells the web app, without zod, what the server would refuse', () => {
    expect(fieldProblem('name', ' \u3164 ')).toBe('Name must contain a visible character');
    expect(fieldProblem('reason', ' \n ')).toBe(
      'Tell the practitioner what the appointment is about',
    );
    expect(fieldProblem('message', 'hi\u0007')).toBe('Message contains control characters');
    expect(fieldProblem('message', 'Dose:\tmorning\r\nand evening')).toBeUndefined();
    expect(fieldProblem('note', '')).toBeUndefined();
  });

  it('whatever it accepts is normalized, well-formed, free of controls and visible', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 30 }), (raw) => {
        const parsed = body.safeParse(raw);
        if (!parsed.success) return;
        const s = parsed.data;
        expect(s).toBe(normalizeText(s, true));
        expect(hasLoneSurrogate(s)).toBe(false);
        expect(/[^\P{Cc}\t\n]/u.test(s)).toBe(false);
        expect(hasVisibleCharacter(s)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
