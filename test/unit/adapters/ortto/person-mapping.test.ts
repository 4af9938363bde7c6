import { describe, expect, it } from 'vitest';
import type { OrttoCustomField } from '#lib/adapters/ortto/custom-fields.ts';
import {
  fieldKey,
  type ResolvedFields,
  toOrttoPerson,
  wantedFields,
} from '#lib/adapters/ortto/person-mapping.ts';
import type { ContactData } from '#lib/domain/contact.ts';

const contact = (extra: Partial<ContactData> = {}): ContactData => ({
  email: 'a@example.com',
  fields: {},
  custom: {},
  ...extra,
});
const field = (id: string, name: string, displayType: string): OrttoCustomField => ({
  id,
  name,
  displayType,
});
const resolvedFor = (c: ContactData, fields: Record<string, OrttoCustomField>): ResolvedFields =>
  new Map(
    wantedFields(c).flatMap((w) => {
      const f = fields[w.name];
      return f === undefined ? [] : [[fieldKey(w), f] as const];
    }),
  );

describe('toOrttoPerson', () => {
  it('writes the email and the standard fields Ortto has a built-in for under Ortto’s own ids', () => {
    const c = contact({
      fields: {
        FirstName: 'Ann',
        LastName: 'Lee',
        Phone: '+61 400 000 000',
        MailingCity: 'Sydney',
        MailingState: 'NSW',
        MailingCountry: 'Australia',
        MailingPostalCode: '2000',
      },
    });
    expect(wantedFields(c)).toEqual([]);
    expect(toOrttoPerson(c, new Map())).toEqual({
      fields: {
        'str::email': 'a@example.com',
        'str::first': 'Ann',
        'str::last': 'Lee',
        'phn::phone': { phone: '+61 400 000 000', parse_with_country_code: true },
        'geo::city': { name: 'Sydney' },
        'geo::region': { name: 'NSW' },
        'geo::country': { name: 'Australia' },
        'str::postal': '2000',
      },
    });
  });

  it('writes a standard field without a built-in to a text field of the same name', () => {
    const c = contact({ fields: { Company: 'Acme', MobilePhone: '0400' } });
    expect(wantedFields(c).map((w) => [w.name, w.type])).toEqual([
      ['Company', 'string'],
      ['MobilePhone', 'string'],
    ]);
    const person = toOrttoPerson(
      c,
      resolvedFor(c, {
        Company: field('str:cm:company', 'Company', 'text'),
        MobilePhone: field('str:cm:mobilephone', 'MobilePhone', 'text'),
      }),
    );
    expect(person).toEqual({
      fields: { 'str::email': 'a@example.com', 'str:cm:company': 'Acme', 'str:cm:mobilephone': '0400' },
    });
  });

  it('converts values as Ortto stores them: decimals ×1000 as whole numbers, dates as ISO-8601', () => {
    const c = contact({
      custom: {
        Score: { type: 'float', value: 12.3456 },
        Seats: { type: 'integer', value: 7 },
        Active: { type: 'boolean', value: false },
        Renewal: { type: 'date', value: '2024-02-29T10:00:00+02:00' },
      },
    });
    const person = toOrttoPerson(
      c,
      resolvedFor(c, {
        Score: field('int:cm:score', 'Score', 'decimal'),
        Seats: field('int:cm:seats', 'Seats', 'integer'),
        Active: field('bol:cm:active', 'Active', 'bool'),
        Renewal: field('dtz:cm:renewal', 'Renewal', 'date'),
      }),
    );
    expect(person).toEqual({
      fields: {
        'str::email': 'a@example.com',
        'int:cm:score': 12346,
        'int:cm:seats': 7,
        'bol:cm:active': false,
        'dtz:cm:renewal': '2024-02-29T08:00:00.000Z',
      },
    });
  });

  it('carries the tags to set and to unset, and leaves both out when there are none', () => {
    const tagged = toOrttoPerson(
      contact({ tags: { set: ['seg:a'], unset: ['seg:b'], existingOnly: false } }),
      new Map(),
    );
    expect(tagged).toMatchObject({ tags: ['seg:a'], unsetTags: ['seg:b'] });
    const bare = toOrttoPerson(contact({ tags: { set: [], unset: [], existingOnly: false } }), new Map());
    expect(bare).toEqual({ fields: { 'str::email': 'a@example.com' } });
  });

  it('refuses a field Ortto holds as another type, naming the field and both types', () => {
    const c = contact({ custom: { Plan: { type: 'string', value: 'pro' } } });
    const problems = toOrttoPerson(c, resolvedFor(c, { Plan: field('int:cm:plan', 'Plan', 'integer') }));
    expect(problems).toEqual([
      'field_type_clash: Ortto\'s field "Plan" is integer, the export writes string (text)',
    ]);
  });

  it('puts a string into an existing long-text field, up to its 4,000 characters', () => {
    const long = 'x'.repeat(1_000);
    const c = contact({ custom: { Notes: { type: 'string', value: long } } });
    const person = toOrttoPerson(c, resolvedFor(c, { Notes: field('txt:cm:notes', 'Notes', 'large_text') }));
    expect(person).toEqual({ fields: { 'str::email': 'a@example.com', 'txt:cm:notes': long } });
  });

  it('refuses values Ortto cannot hold, naming each field and the reason', () => {
    const c = contact({
      fields: { FirstName: 'n'.repeat(256) },
      custom: {
        Plan: { type: 'string', value: 'p'.repeat(256) },
        Score: { type: 'float', value: 1e300 },
        Renewal: { type: 'date', value: 'someday' },
      },
    });
    const problems = toOrttoPerson(
      c,
      resolvedFor(c, {
        Plan: field('str:cm:plan', 'Plan', 'text'),
        Score: field('int:cm:score', 'Score', 'decimal'),
        Renewal: field('dtz:cm:renewal', 'Renewal', 'date'),
      }),
    );
    expect(problems).toEqual([
      'field "FirstName": longer than 255 characters',
      'field "Plan": longer than 255 characters',
      'field "Score": not a number Ortto can hold (×1000)',
      'field "Renewal": not a date',
    ]);
  });

  it('passes on why a field could not be had', () => {
    const c = contact({ custom: { Plan: { type: 'string', value: 'pro' } } });
    const [w] = wantedFields(c);
    const resolved = new Map([
      [fieldKey(w ?? { name: '', type: 'string' }), { refused: 'custom_field_refused: x' }],
    ]);
    expect(toOrttoPerson(c, resolved)).toEqual(['custom_field_refused: x']);
  });
});
