import { describe, expect, it } from 'vitest';
import { ContactCollector } from '#lib/domain/collector.ts';
import type { ContactData } from '#lib/domain/contact.ts';
import { jsonCodec, matchingCodec } from '#lib/domain/contact-codec.ts';
import { DataMatchingSchema } from '#lib/domain/export-config.ts';
import { mapProfile } from '#lib/domain/mapping.ts';

const matching = DataMatchingSchema.parse({
  email: 'email',
  fields: { FirstName: 'first', LastName: 'last', Company: 'company' },
  custom: [
    { name: 'Plan', type: 'string', source: 'plan' },
    { name: 'Seats', type: 'integer', source: 'seats' },
    { name: 'Trial', type: 'boolean', source: 'trial' },
    { name: 'Signup', type: 'date', source: 'signup' },
  ],
  updatedAt: 'updated',
});
const codec = matchingCodec(matching);

const mapped = (attributes: Record<string, unknown>) => {
  const outcome = mapProfile({ id: 'p1', attributes }, matching);
  if (!outcome.ok) throw new Error(outcome.reason);
  return outcome.contact;
};

describe('matchingCodec', () => {
  it.each([
    [
      'every value',
      {
        email: 'ann@example.com',
        first: 'Ann',
        last: 'Lee',
        company: 'Co',
        plan: 'pro',
        seats: 3,
        trial: false,
        signup: '2024-02-01',
      },
    ],
    ['values absent, an address in capitals', { email: 'Ann@Example.com', last: 'Lee', trial: true }],
    ['text that needs escaping', { email: 'x@example.com', first: 'Zoë "Z" \\ 🎉\nline', plan: '[0,null]' }],
  ])('gives back a contact that serialises to the same bytes as the mapped one (%s)', (_name, attributes) => {
    const { key, data } = mapped(attributes);
    const back = codec.decode(codec.encode(data, key), key);
    expect(JSON.stringify(back)).toBe(JSON.stringify(data));
  });

  it('stores values only: a sample contact is under a third of its JSON', () => {
    const { key, data } = mapped({
      email: 'ann@example.com',
      first: 'Ann',
      last: 'Lee',
      company: 'Co',
      plan: 'pro',
      seats: 3,
      trial: false,
      signup: '2024-02-01',
    });
    expect(codec.encode(data, key).length * 3).toBeLessThan(JSON.stringify(data).length);
  });

  it('keeps data the matching does not describe as JSON, and reads it back', () => {
    const odd: ContactData = {
      email: 'a@example.com',
      fields: { Title: 'Dr' },
      custom: { Seats: { type: 'string', value: 'x' } },
    };
    const text = codec.encode(odd, 'a@example.com');
    expect(text).toBe(JSON.stringify(odd));
    expect(codec.decode(text, 'a@example.com')).toEqual(odd);
  });

  it('refuses a text written for a matching of another width, naming the contact', () => {
    expect(() => codec.decode('[0,"Ann"]', 'ann@example.com')).toThrow(
      /ann@example.com: 2 values where the data matching has 8/,
    );
  });

  it('tells matchings apart by id, and falls back to JSON for a custom name used twice', () => {
    const other = matchingCodec(DataMatchingSchema.parse({ email: 'email', fields: { FirstName: 'first' } }));
    expect(other.id).not.toBe(codec.id);
    const twice = matchingCodec({
      ...matching,
      custom: [
        { name: 'Plan', type: 'string', source: 'a' },
        { name: 'Plan', type: 'integer', source: 'b' },
      ],
    });
    expect(twice).toBe(jsonCodec);
  });
});

describe('ContactCollector with a codec', () => {
  it('keeps each contact as the codec text and gives back the same contacts as without one', () => {
    const rows: Array<[number, string, Record<string, unknown>]> = [
      [0, '1', { email: 'ann@example.com', first: 'Old', updated: '2026-01-01' }],
      [1, '2', { email: 'ANN@example.com', first: 'New', seats: 4, updated: '2026-06-01' }],
      [2, '3', { email: 'bob@example.com', first: 'Bob', trial: true }],
    ];
    const withCodec = new ContactCollector({ segmentIds: ['a', 'b', 'c'], cap: 10, policy: 'fail', codec });
    const plain = new ContactCollector({ segmentIds: ['a', 'b', 'c'], cap: 10, policy: 'fail' });
    for (const [segment, id, attributes] of rows) {
      withCodec.add(segment, id, mapProfile({ id, attributes }, matching));
      plain.add(segment, id, mapProfile({ id, attributes }, matching));
    }

    expect([...withCodec.contacts]).toEqual([...plain.contacts]);
    expect([...withCodec.contacts.records()].map((r) => r[4])).toEqual([
      '["ANN@example.com","New",null,null,null,4,null,null]',
      '[0,"Bob",null,null,null,null,true,null]',
    ]);
    expect(withCodec.contacts.get('ann@example.com')?.mergedIds).toEqual(['1']);
  });
});
