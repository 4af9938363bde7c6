import type { ContactData } from './contact.ts';

// cyrb53 (public domain): a fast 53-bit string hash. Two seeds give ~106 bits, ample to tell
// whether one contact's payload changed since it was last sent.
const cyrb53 = (text: string, seed: number): string => {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36).padStart(11, '0');
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

export const contentHash = (data: ContactData): string => {
  const text = canonicalContact(data);
  return cyrb53(text, 1) + cyrb53(text, 2);
};
