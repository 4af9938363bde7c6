import { describe, expect, it } from 'vitest';
import { decodeContact, encodeContact, parseTimestamp } from '#lib/adapters/autopilot/encoding.ts';
import {
  classifyHttpFailure,
  classifyNetworkError,
  parseRetryAfter,
  reasonFromMessage,
  redact,
  subjectOf,
} from '#lib/adapters/autopilot/errors.ts';
import { encodeCsvField } from '#lib/adapters/segments/csv.ts';
import {
  coerceCustom,
  coerceText,
  MAX_DATE_TEXT,
  MAX_NUMBER_TEXT,
  toEpochMillis,
} from '#lib/domain/coerce.ts';
import { checkEmail, maskEmail } from '#lib/domain/email.ts';
import {
  CUSTOM_FIELD_TYPES,
  CustomFieldNameSchema,
  DataMatchingSchema,
  ExportConfigSchema,
} from '#lib/domain/export-config.ts';
import { mapProfile } from '#lib/domain/mapping.ts';
import { isEmailShaped, parseContactWrite } from '#local/autopilot-standin/contact-input.ts';

/*
 * ReDoS guard. Every pattern in the product backtracks at worst quadratically, so a pattern that
 * only ever sees ≤ 1 KiB does at most ~10^6 steps whatever the value. Timing a 1 MiB value would be
 * noisy on a shared machine, so these tests count instead: while the code under test handles a
 * 1 MiB value, every regular expression run is intercepted and the longest input a repeating
 * pattern was given is recorded. One that is handed more than the limit throws at once, so the
 * quadratic case fails in milliseconds instead of running for minutes. A pattern without any
 * quantifier (`/\s/`, `/[",\r\n]/`) reads a fixed number of characters per position, so it is
 * linear by construction and may see any length.
 */
const REGEX_INPUT_LIMIT = 1024;
const MIB = 1 << 20;

class UnboundedRegexInput extends Error {}

const canRepeat = (re: RegExp): boolean => ['*', '+', '?', '{'].some((q) => re.source.includes(q));

interface Observed {
  result: unknown;
  /** The longest string a repeating pattern was run on. */
  longest: number;
}

const observeRegexInputs = (work: () => unknown): Observed => {
  const exec = RegExp.prototype.exec;
  let longest = 0;
  RegExp.prototype.exec = function (this: RegExp, input: string) {
    const text = String(input);
    if (canRepeat(this) && text.length > longest) {
      longest = text.length;
      if (longest > REGEX_INPUT_LIMIT) {
        throw new UnboundedRegexInput(`/${this.source}/ ran on ${text.length} characters`);
      }
    }
    return exec.call(this, text);
  };
  try {
    let result: unknown;
    try {
      result = work();
    } catch (error) {
      if (error instanceof UnboundedRegexInput) throw error;
      result = error;
    }
    return { result, longest };
  } finally {
    RegExp.prototype.exec = exec;
  }
};

const half = MIB / 2;
const ADVERSARIAL: ReadonlyArray<readonly [string, string]> = [
  ['digits then a bad character', `${'1'.repeat(MIB)}x`],
  ['a signed decimal then a bad character', `-${'1'.repeat(half)}.${'1'.repeat(half)}x`],
  ['an exponent after a long mantissa', `${'9'.repeat(MIB)}e+x`],
  ['a dot run', '.'.repeat(MIB)],
  ['a run of "a@"', 'a@'.repeat(half)],
  ['a letter run without "@"', 'a'.repeat(MIB)],
  ['an address with a long dotted domain', `ann@${'a.'.repeat(half)}com`],
  ['a whitespace run then a character', `${' '.repeat(MIB)}x`],
  ['mixed whitespace around a date', `2026-01-31${' \t\u00a0'.repeat(MIB / 3)}x`],
  ['nested repetition bait', `${'a-'.repeat(half)}!`],
  ['a date prefix then digits', `2026-01-31T${'1'.repeat(MIB)}`],
  ['a weekday prefix then garbage', `Mon, ${'1 '.repeat(half)}`],
  ['lone surrogates', '\ud800'.repeat(MIB)],
  ['lone surrogates around "@"', `${'\udc00'.repeat(half)}@${'\ud800'.repeat(half)}.com`],
  ['a slash run', '/'.repeat(MIB)],
  ['key-message bait', `autopilot${' '.repeat(MIB)}api`],
];

const KEY = '660f9d61d936487db0d78d546f423b43';
const ctx = { route: 'POST /contact' };

const matching = DataMatchingSchema.parse({
  email: 'email',
  fields: { FirstName: 'value' },
  custom: CUSTOM_FIELD_TYPES.map((type) => ({ name: `Field ${type}`, type, source: 'value' })),
  updatedAt: 'value',
});

const VALIDATORS: ReadonlyArray<readonly [string, (value: string) => unknown]> = [
  ...CUSTOM_FIELD_TYPES.map(
    (type) => [`coerceCustom(${type})`, (v: string) => coerceCustom(type, v)] as const,
  ),
  ['coerceText', (v) => coerceText(v)],
  ['toEpochMillis', (v) => toEpochMillis(v)],
  ['checkEmail', (v) => checkEmail(v)],
  ['maskEmail', (v) => maskEmail(v)],
  ['mapProfile (email)', (v) => mapProfile({ id: 'p', attributes: { email: v } }, matching)],
  [
    'mapProfile (every other field)',
    (v) => mapProfile({ id: 'p', attributes: { email: 'ann@example.com', value: v } }, matching),
  ],
  ['CustomFieldNameSchema', (v) => CustomFieldNameSchema.safeParse(v)],
  [
    'ExportConfigSchema',
    (v) =>
      ExportConfigSchema.safeParse({
        name: v,
        connectionId: v,
        segmentIds: [v],
        dataMatching: { email: v, custom: [{ name: v, type: 'string', source: v }] },
        membershipFields: { [v]: v },
      }),
  ],
  ['redact', (v) => redact(v, [KEY])],
  ['reasonFromMessage', (v) => reasonFromMessage(v)],
  ['parseRetryAfter', (v) => parseRetryAfter(v)],
  ['subjectOf', (v) => subjectOf(v)],
  [
    'classifyHttpFailure (400 message)',
    (v) => classifyHttpFailure(ctx, { status: 400, body: { message: v } }, [KEY]),
  ],
  [
    'classifyHttpFailure (429 Retry-After)',
    (v) => classifyHttpFailure(ctx, { status: 429, retryAfter: v }, [KEY]),
  ],
  ['classifyNetworkError', (v) => classifyNetworkError(ctx, new Error(v), [KEY])],
  ['parseTimestamp', (v) => parseTimestamp(v)],
  [
    'encodeContact',
    (v) =>
      encodeContact({
        email: 'ann@example.com',
        fields: { FirstName: v },
        custom: Object.fromEntries(CUSTOM_FIELD_TYPES.map((type) => [type, { type, value: v }])),
      }),
  ],
  [
    'decodeContact',
    (v) =>
      decodeContact({
        contact_id: 'c1',
        Email: v,
        created_at: v,
        updated_at: v,
        custom_fields: [{ kind: v, fieldType: 'string', value: v }],
      }),
  ],
  ['encodeCsvField', (v) => encodeCsvField(v)],
  ['stand-in isEmailShaped', (v) => isEmailShaped(v)],
  [
    'stand-in parseContactWrite',
    (v) =>
      parseContactWrite({
        Email: 'ann@example.com',
        FirstName: v,
        custom: { 'date--Renewal': v, 'string--Plan': v, [`string--${v}`]: 'x' },
      }),
  ],
  ['stand-in parseContactWrite (Email)', (v) => parseContactWrite({ Email: v })],
];

describe('a 1 MiB adversarial value never reaches a repeating pattern unbounded', () => {
  describe.each(VALIDATORS)('%s', (_name, validate) => {
    it.each(ADVERSARIAL)('%s', (_shape, value) => {
      const { longest } = observeRegexInputs(() => validate(value));
      expect(longest).toBeLessThanOrEqual(REGEX_INPUT_LIMIT);
    });
  });
});

describe('over-long values are refused with a reason, not parsed', () => {
  const digits = `${'1'.repeat(MIB)}x`;

  it.each(['integer', 'float', 'date'] as const)('a 1 MiB %s value is too_long', (type) => {
    const { result } = observeRegexInputs(() => coerceCustom(type, digits));
    expect(result).toEqual({ ok: false, reason: 'too_long' });
  });

  it('a number at the documented limit is read; one character more is too_long', () => {
    const atLimit = `-${'1'.repeat(30)}.${'5'.repeat(MAX_NUMBER_TEXT - 35)}e+5`;
    expect(atLimit).toHaveLength(MAX_NUMBER_TEXT);
    expect(coerceCustom('float', atLimit)).toEqual({ ok: true, value: Number(atLimit) });
    expect(coerceCustom('float', `${atLimit}0`)).toEqual({ ok: false, reason: 'too_long' });
    const integer = `+${'0'.repeat(MAX_NUMBER_TEXT - 3)}42`;
    expect(coerceCustom('integer', integer)).toEqual({ ok: true, value: 42 });
    expect(coerceCustom('integer', `0${integer}`)).toEqual({ ok: false, reason: 'too_long' });
  });

  it('a date within the documented limit is read, whatever format Date.parse knows', () => {
    const localeDate = 'Sat Jan 31 2026 10:00:00 GMT+0000 (Coordinated Universal Time)';
    expect(localeDate.length).toBeLessThanOrEqual(MAX_DATE_TEXT);
    expect(coerceCustom('date', localeDate)).toEqual({ ok: true, value: '2026-01-31T10:00:00.000Z' });
    expect(coerceCustom('date', localeDate.padEnd(MAX_DATE_TEXT + 1, ')'))).toEqual({
      ok: false,
      reason: 'too_long',
    });
  });

  it('a server message is masked and cut, whatever its length', () => {
    const message = `${'a'.repeat(MIB)} ann.lee@example.com ${KEY}`;
    const err = classifyHttpFailure(ctx, { status: 400, body: { message } }, [KEY]);
    expect(err.message.length).toBeLessThan(300);
    expect(err.message).not.toContain(KEY);
  });

  it('a cut never leaves half an address unmasked', () => {
    // Wherever the examined window ends, inside "ann.lee@example.com" or not, no part of the
    // local part may be shown (the masked form is "a***@…").
    for (let at = 0; at < 4200; at++) {
      const text = redact(`${'x'.repeat(at)} ann.lee@example.com`, []);
      expect(text, `address at ${at}`).not.toContain('nn');
    }
  });
});

describe('the email masking pattern', () => {
  it('masks exactly what it did before it was made linear', () => {
    const before = /[^\s@"'<>(),;:[\]]+@[^\s@"'<>(),;:[\]]+/g;
    const alphabet = ['a', 'b', '@', '.', ' ', '"', '(', ';', '\n', 'é'];
    let seed = 7;
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed;
    };
    for (let n = 0; n < 2000; n++) {
      const length = next() % 16;
      let text = '';
      for (let i = 0; i < length; i++) text += alphabet[next() % alphabet.length];
      expect(redact(text, []), JSON.stringify(text)).toBe(text.replace(before, (m) => maskEmail(m)));
    }
  });
});

describe('lone surrogates', () => {
  it.each([['a\ud800@example.com'], ['\udc00ann@example.com'], ['ann\ud83d@example.com']])(
    'an address with a lone surrogate (%j) is refused as invalid_unicode',
    (raw) => {
      expect(checkEmail(raw)).toEqual({ ok: false, reason: 'invalid_unicode' });
    },
  );

  it('a well-formed astral character is still an address character', () => {
    expect(checkEmail('ann\ud83d\ude00@example.com').ok).toBe(true);
  });
});
