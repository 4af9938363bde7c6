import type { ContactData } from './contact.ts';

// cyrb53 (public domain): a fast 53-bit string hash. Two seeds give ~106 bits, ample to tell
// whether one contact's payload changed since it was last sent. Snapshots store exactly
// `cyrb53(text, 1) + cyrb53(text, 2)` with each part `h.toString(36).padStart(11, '0')`; this
// computes the same in one pass, with the base-36 digits written by hand into one flat string
// (toString(36), padStart and the concatenation took ~3× as long, and left a cons string per contact).

const DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz';
/** 36^11 > 2^53: eleven digits always suffice. */
const HALF = 11;
const codes: number[] = new Array(2 * HALF).fill(0);

/** cyrb53's final mix of (h1, h2), written as eleven base-36 digits at `codes[at…]`. */
const putDigits = (h1: number, h2: number, at: number): void => {
  const a = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  const b = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(a ^ (a >>> 13), 3266489909);
  let n = 4294967296 * (2097151 & b) + (a >>> 0);
  for (let i = at + HALF - 1; i >= at; i--) {
    const d = n % 36;
    codes[i] = DIGITS.charCodeAt(d);
    // Exact: n - d is a multiple of 36 below 2^53.
    n = (n - d) / 36;
  }
};

const cyrb53Twice = (text: string): string => {
  let a1 = 0xdeadbeef ^ 1;
  let a2 = 0x41c6ce57 ^ 1;
  let b1 = 0xdeadbeef ^ 2;
  let b2 = 0x41c6ce57 ^ 2;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    a1 = Math.imul(a1 ^ ch, 2654435761);
    a2 = Math.imul(a2 ^ ch, 1597334677);
    b1 = Math.imul(b1 ^ ch, 2654435761);
    b2 = Math.imul(b2 ^ ch, 1597334677);
  }
  putDigits(a1, a2, 0);
  putDigits(b1, b2, HALF);
  return String.fromCharCode.apply(null, codes);
};

/** Key-order-independent JSON of a contact, so equal content always hashes equally. */
export const canonicalContact = (data: ContactData): string => {
  const fields = Object.keys(data.fields)
    .sort()
    .map((k) => [k, data.fields[k as keyof ContactData['fields']]]);
  const custom = Object.keys(data.custom)
    .sort()
    .map((k) => {
      const c = data.custom[k];
      return [k, c?.type, c?.value];
    });
  return JSON.stringify([data.email, fields, custom]);
};

/** The content hash of a contact's {@link canonicalContact} text (for callers that already have it). */
export const hashCanonical = (canonical: string): string => cyrb53Twice(canonical);

export const contentHash = (data: ContactData): string => hashCanonical(canonicalContact(data));
