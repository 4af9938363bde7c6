import { describe, expect, it } from 'vitest';
import { checkEmail, maskEmail } from '#lib/domain/email.ts';

describe('checkEmail', () => {
  it('trims, keeps the given case for sending and lower-cases the identity key', () => {
    expect(checkEmail('  Ann.Lee@Example.COM ')).toEqual({
      ok: true,
      email: 'Ann.Lee@Example.COM',
      key: 'ann.lee@example.com',
    });
  });

  it.each([
    ['plus+tag@example.co.uk'],
    ["o'brien@example.ie"],
    ['user@sub.domain-with-hyphen.example'],
    ['müller@bücher.de'],
    ['x@xn--bcher-kva.example'],
  ])('accepts %s', (raw) => {
    expect(checkEmail(raw).ok).toBe(true);
  });

  it.each([
    [undefined, 'missing'],
    [null, 'missing'],
    ['   ', 'missing'],
    [42, 'not_a_string'],
    [`${'a'.repeat(245)}@example.com`, 'too_long'],
    ['ann lee@example.com', 'contains_whitespace'],
    ['ann\u0000@example.com', 'control_character'],
    ['ann\u0085@example.com', 'control_character'],
    ['ann.example.com', 'missing_at'],
    ['ann@lee@example.com', 'multiple_at'],
    ['@example.com', 'empty_local_part'],
    [`${'a'.repeat(65)}@example.com`, 'local_part_too_long'],
    ['ann@localhost', 'invalid_domain'],
    ['ann@example.', 'invalid_domain'],
    ['ann@.example.com', 'invalid_domain'],
    ['ann@exa_mple.com', 'invalid_domain'],
    ['ann@-example.com', 'invalid_domain'],
    ['ann@example.c', 'invalid_domain'],
    ['ann@example.123', 'invalid_domain'],
  ])('rejects %j as %s', (raw, reason) => {
    expect(checkEmail(raw)).toEqual({ ok: false, reason });
  });

  it('accepts exactly 254 characters and refuses 255', () => {
    const domain = `${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(63)}.com`;
    const at254 = `${'a'.repeat(254 - domain.length - 1)}@${domain}`;
    expect(at254.length).toBe(254);
    expect(checkEmail(at254).ok).toBe(true);
    expect(checkEmail(`a${at254}`)).toEqual({ ok: false, reason: 'too_long' });
  });
});

describe('maskEmail', () => {
  it('keeps the first character and the domain only', () => {
    expect(maskEmail('ann.lee@example.com')).toBe('a***@example.com');
    expect(maskEmail('not-an-email')).toBe('***');
  });
});
