/**
 * Email normalisation and validation. Identity is case-insensitive (the key is lower-cased);
 * the address is sent as given (trimmed) because Autopilot's own matching rule is unknown.
 */
export type EmailRejection =
  | 'missing'
  | 'not_a_string'
  | 'too_long'
  | 'contains_whitespace'
  | 'control_character'
  | 'invalid_unicode'
  | 'missing_at'
  | 'multiple_at'
  | 'empty_local_part'
  | 'local_part_too_long'
  | 'invalid_domain';

export type EmailCheck = { ok: true; email: string; key: string } | { ok: false; reason: EmailRejection };

/** RFC 5321's limit; checked before any pattern runs, so every pattern below sees ≤ 254 characters. */
const MAX_EMAIL_LENGTH = 254;
const MAX_LOCAL_LENGTH = 64;
// Letters (any script), digits and hyphens; no leading/trailing hyphen.
const DOMAIN_LABEL = /^[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u;
const TOP_LEVEL = /^(?:[\p{L}]{2,63}|xn--[a-z0-9-]{1,59})$/iu;

export const checkEmail = (raw: unknown): EmailCheck => {
  if (raw === undefined || raw === null) return { ok: false, reason: 'missing' };
  if (typeof raw !== 'string') return { ok: false, reason: 'not_a_string' };
  const email = raw.trim();
  if (email === '') return { ok: false, reason: 'missing' };
  if (email.length > MAX_EMAIL_LENGTH) return { ok: false, reason: 'too_long' };
  for (let i = 0; i < email.length; i++) {
    const code = email.charCodeAt(i);
    if (code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0)) {
      return { ok: false, reason: 'control_character' };
    }
    // A surrogate must be half of a pair: a lone one is not text and cannot be sent as UTF-8.
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = email.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return { ok: false, reason: 'invalid_unicode' };
      i++;
    } else if (code >= 0xdc00 && code <= 0xdfff) return { ok: false, reason: 'invalid_unicode' };
  }
  if (/\s/u.test(email)) return { ok: false, reason: 'contains_whitespace' };
  const at = email.indexOf('@');
  if (at < 0) return { ok: false, reason: 'missing_at' };
  if (email.indexOf('@', at + 1) >= 0) return { ok: false, reason: 'multiple_at' };
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  if (local === '') return { ok: false, reason: 'empty_local_part' };
  if (local.length > MAX_LOCAL_LENGTH) return { ok: false, reason: 'local_part_too_long' };
  if (!isValidDomain(domain)) return { ok: false, reason: 'invalid_domain' };
  return { ok: true, email, key: email.toLowerCase() };
};

const isValidDomain = (domain: string): boolean => {
  const labels = domain.split('.');
  if (labels.length < 2) return false;
  const tld = labels[labels.length - 1] ?? '';
  return labels.every((label) => DOMAIN_LABEL.test(label)) && TOP_LEVEL.test(tld);
};

/** `ann.lee@example.com` → `a***@example.com`: enough to recognise a domain, not a person. */
export const maskEmail = (email: string): string => {
  const at = email.lastIndexOf('@');
  if (at <= 0) return '***';
  return `${email.slice(0, 1)}***${email.slice(at)}`;
};
