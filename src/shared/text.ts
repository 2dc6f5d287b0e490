import { z } from 'zod';
import { MESSAGE_MAX } from './vocabulary.js';

/**
 * The one policy for text that people write: names, appointment reasons, notes,
 * out-of-office notices, message bodies. Stored text is NFC and trimmed; it never holds
 * a control character (U+009B is a terminal escape just like ESC [, so C1 counts too) or
 * a lone surrogate (which a UTF-8 store would silently turn into U+FFFD, so what was
 * acknowledged would differ from what is read back); and a value that is given has at
 * least one character a reader can see.
 *
 * Only factory functions and plain predicates live here, so the web app can import the
 * predicates without pulling zod into its bundle.
 */

/** C0 controls, DEL and C1 controls (general category Cc). */
const CONTROL = /\p{Cc}/u;
/** The same, except tab and line feed, which multi-line text may hold. */
const CONTROL_EXCEPT_BREAKS = /[^\P{Cc}\t\n]/u;
const LONE_SURROGATE = /\p{Cs}/u;
/**
 * A character that shows: not white space, not default-ignorable (U+200B, U+FEFF, the
 * Hangul fillers U+115F/U+1160/U+3164/U+FFA0, variation selectors, …), not a control,
 * format, surrogate or unassigned code point, not a lone combining mark, and not the
 * blank Braille pattern U+2800, which renders as empty space without being White_Space.
 */
const VISIBLE =
  /[^\p{White_Space}\p{Default_Ignorable_Code_Point}\p{Cc}\p{Cf}\p{Cs}\p{Cn}\p{M}\u2800]/u;

export const hasVisibleCharacter = (s: string): boolean => VISIBLE.test(s);
export const hasLoneSurrogate = (s: string): boolean => LONE_SURROGATE.test(s);
/** Length as people count it: code points, not UTF-16 units. */
export const textLength = (s: string): number => [...s].length;

/** The normal form that is stored: line breaks as LF, NFC, no surrounding white space. */
export function normalizeText(s: string, multiline: boolean): string {
  return (multiline ? s.replace(/\r\n?/g, '\n') : s).normalize('NFC').trim();
}

export interface TextRules {
  /** How the field is named in messages, e.g. "Name". */
  label: string;
  /** Most characters (code points) after normalizing. */
  max: number;
  /** Line breaks and tabs allowed (bodies, reasons, notes). */
  multiline?: boolean;
  /** An empty value is refused. Optional fields still refuse a value with nothing visible. */
  required?: boolean;
  /** What to say when a required value is empty; `${label} is required` otherwise. */
  emptyMessage?: string;
}

/** The rules of each human-written field, plain data so the web app can use them too. */
export const TEXT_FIELDS = {
  name: { label: 'Name', max: 200, required: true },
  specialty: { label: 'Specialty', max: 200 },
  outOfOffice: { label: 'Out-of-office notice', max: 1000, multiline: true },
  reason: {
    label: 'Reason',
    max: 500,
    multiline: true,
    required: true,
    emptyMessage: 'Tell the practitioner what the appointment is about',
  },
  note: { label: 'Note', max: 500, multiline: true },
  message: {
    label: 'Message',
    max: MESSAGE_MAX,
    multiline: true,
    required: true,
    emptyMessage: 'Message is empty',
  },
} as const satisfies Record<string, TextRules>;

/** What is wrong with a raw value for a field, as the server will see it after normalizing. */
export function fieldProblem(field: keyof typeof TEXT_FIELDS, raw: string): string | undefined {
  const rules: TextRules = TEXT_FIELDS[field];
  return textProblem(normalizeText(raw, rules.multiline === true), rules);
}

/** Why `s` (already normalized) breaks the rules, or undefined when it does not. */
export function textProblem(s: string, rules: TextRules): string | undefined {
  if (hasLoneSurrogate(s)) return `${rules.label} contains an invalid character`;
  if ((rules.multiline ? CONTROL_EXCEPT_BREAKS : CONTROL).test(s))
    return rules.multiline
      ? `${rules.label} contains control characters`
      : `${rules.label} contains line breaks, tabs or control characters`;
  const length = textLength(s);
  if (length === 0)
    return rules.required ? (rules.emptyMessage ?? `${rules.label} is required`) : undefined;
  if (length > rules.max) return `${rules.label} must be at most ${rules.max} characters`;
  if (!hasVisibleCharacter(s)) return `${rules.label} must contain a visible character`;
  return undefined;
}

/**
 * A zod string that normalizes (LF, NFC, trim) and then holds the value to the rules.
 * The input side stays a plain string in the OpenAPI document.
 */
export function humanText(rules: TextRules): z.ZodString {
  const multiline = rules.multiline === true;
  return z
    .string()
    .overwrite((s) => normalizeText(s, multiline))
    .check((ctx) => {
      const message = textProblem(ctx.value, rules);
      if (message) ctx.issues.push({ code: 'custom', message, input: ctx.value });
    })
    .describe(
      `${rules.required ? 1 : 0} to ${rules.max} characters after trimming, stored NFC; ${
        multiline ? 'line breaks and tabs allowed, no other' : 'no'
      } control characters; something visible`,
    );
}

/** One line of text: names, specialties. */
export function singleLineText(rules: Omit<TextRules, 'multiline'>): z.ZodString {
  return humanText({ ...rules, multiline: false });
}

/** Text with line breaks: message bodies, appointment reasons, notes, out-of-office notices. */
export function multiLineText(rules: Omit<TextRules, 'multiline'>): z.ZodString {
  return humanText({ ...rules, multiline: true });
}
