import type { ContactData, CustomValue } from './contact.ts';
import type { CustomFieldType, DataMatching, StandardField } from './export-config.ts';

/**
 * How the collector keeps a contact's data between reading it and building its message: one string
 * (V8 stores ASCII as one byte per character) instead of an object graph per contact — ~550 bytes
 * per sample contact as objects, ~130 as a positional string. `key` is the contact's identity, so an
 * email equal to it is not stored twice.
 */
export interface ContactCodec {
  /** Tells apart codecs whose texts cannot be read by each other (kept with a checkpoint). */
  readonly id: string;
  encode(data: ContactData, key: string): string;
  decode(text: string, key: string): ContactData;
}

/** Any contact, as its JSON: the codec for data that no data matching describes. */
export const jsonCodec: ContactCodec = {
  id: 'json',
  encode: (data) => JSON.stringify(data),
  decode: (text) => JSON.parse(text) as ContactData,
};

/**
 * Values in the data matching's order, without names or types: `[email or 0, ...fields, ...custom]`,
 * null where a value is absent. Decoding inserts keys in that same order, which is the order
 * `mapProfile` inserts them in, so a decoded contact serialises to the same bytes as the mapped one.
 * Data the matching does not describe (another shape, a type that differs) is kept as JSON instead.
 */
export const matchingCodec = (matching: DataMatching): ContactCodec => {
  const fields = Object.keys(matching.fields) as StandardField[];
  const custom: ReadonlyArray<{ name: string; type: CustomFieldType }> = matching.custom;
  // A name used twice would make one position stand for two; such a matching keeps JSON.
  if (new Set(custom.map((c) => c.name)).size !== custom.length) return jsonCodec;
  const width = 1 + fields.length + custom.length;
  const id = `matching:${JSON.stringify([fields, custom.map((c) => [c.name, c.type])])}`;

  const describes = (data: ContactData): boolean => {
    let present = 0;
    for (const f of fields) if (data.fields[f] !== undefined) present++;
    if (present !== Object.keys(data.fields).length) return false;
    present = 0;
    for (const c of custom) {
      const value = data.custom[c.name];
      if (value === undefined) continue;
      if (value.type !== c.type) return false;
      present++;
    }
    return present === Object.keys(data.custom).length;
  };

  return {
    id,
    encode(data, key) {
      if (!describes(data)) return JSON.stringify(data);
      const values: Array<string | CustomValue | null> = [data.email === key ? 0 : data.email];
      for (const f of fields) values.push(data.fields[f] ?? null);
      for (const c of custom) values.push(data.custom[c.name]?.value ?? null);
      return JSON.stringify(values);
    },
    decode(text, key) {
      if (text.charCodeAt(0) !== 0x5b /* [ */) return JSON.parse(text) as ContactData;
      const values = JSON.parse(text) as Array<string | CustomValue | null>;
      if (values.length !== width) {
        throw new Error(
          `Stored contact ${key}: ${values.length} values where the data matching has ${width}`,
        );
      }
      const data: ContactData = { email: values[0] === 0 ? key : String(values[0]), fields: {}, custom: {} };
      let i = 1;
      for (const f of fields) {
        const value = values[i++];
        if (value !== null && value !== undefined) data.fields[f] = String(value);
      }
      for (const c of custom) {
        const value = values[i++];
        if (value !== null && value !== undefined) data.custom[c.name] = { type: c.type, value };
      }
      return data;
    },
  };
};
