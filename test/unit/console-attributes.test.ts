import { describe, expect, it } from 'vitest';
import { CustomFieldNameSchema } from '#lib/domain/export-config.ts';
import {
  addAttribute,
  attributeChoices,
  customFieldName,
  mappedAttributes,
  offerNote,
} from '../../console/components/attribute-choices.ts';
import { type DataMatchingForm, emptyForm } from '../../console/components/export-model.ts';

const segments = [
  { id: 'a', name: 'A', profiles: 3, attributes: ['email', 'plan', 'seats'] },
  { id: 'b', name: 'B', profiles: 5, attributes: ['email', 'Seats', 'seats', 'city'] },
  { id: 'c', name: 'C', profiles: 1 },
  { id: 'd', name: 'D', profiles: 2, attributes: ['region'] },
];

const matching = (patch: Partial<DataMatchingForm> = {}): DataMatchingForm => {
  const { email, fields, custom, updatedAt } = emptyForm();
  return { email, fields, custom, updatedAt, ...patch };
};

describe('the data-matching picker: which attributes it offers', () => {
  it('offers the union of the selected segments’ attributes with how many carry each, by name', () => {
    const offer = attributeChoices(segments, ['a', 'b'], new Set());

    expect(offer).toEqual({
      selected: 2,
      reporting: 2,
      choices: [
        { name: 'city', carriedBy: 1 },
        { name: 'email', carriedBy: 2 },
        { name: 'plan', carriedBy: 1 },
        { name: 'Seats', carriedBy: 1 },
        { name: 'seats', carriedBy: 2 },
      ],
    });
  });

  it('leaves out attributes already mapped and segments not selected', () => {
    const offer = attributeChoices(segments, ['a'], mappedAttributes(matching({ email: 'email' })));

    expect(offer.choices.map((c) => c.name)).toEqual(['plan', 'seats']);
  });

  it('counts the selected segments that report no attributes apart, so it can say so', () => {
    expect(attributeChoices(segments, ['c'], new Set())).toEqual({ selected: 1, reporting: 0, choices: [] });
    expect(attributeChoices(segments, ['c', 'd'], new Set())).toEqual({
      selected: 2,
      reporting: 1,
      choices: [{ name: 'region', carriedBy: 1 }],
    });
    expect(attributeChoices(segments, [], new Set())).toEqual({ selected: 0, reporting: 0, choices: [] });
    // Ids the list does not hold (yet) are not selected segments it can speak for.
    expect(attributeChoices(undefined, ['a'], new Set()).selected).toBe(0);
  });

  it('bounds what it offers: names an export could not map and names past 1,000 are left out', () => {
    const many = (prefix: string) => Array.from({ length: 1_500 }, (_, i) => `${prefix}${i}`);
    const wide = [
      { id: 'v', attributes: many('v') },
      { id: 'w', attributes: many('w') },
    ];
    const long = 'x'.repeat(201);

    expect(attributeChoices(wide, ['v', 'w'], new Set()).choices).toHaveLength(1_000);
    expect(attributeChoices([{ id: 'l', attributes: [long, 'email'] }], ['l'], new Set()).choices).toEqual([
      { name: 'email', carriedBy: 1 },
    ]);
  });

  it('counts as mapped the email, standard and custom fields’ attributes, trimmed, but not blanks', () => {
    const mapped = mappedAttributes(
      matching({
        email: ' mail ',
        fields: { FirstName: 'first_name', LastName: '' },
        custom: [
          { name: 'Plan', type: 'string', source: 'plan' },
          { name: '', type: 'string', source: '  ' },
        ],
        updatedAt: 'updated_at',
      }),
    );

    expect([...mapped].sort()).toEqual(['first_name', 'mail', 'plan']);
  });
});

describe('the data-matching picker: what it says when it offers little', () => {
  it('asks for segments first, and says when none of those chosen reports its attributes', () => {
    expect(offerNote(attributeChoices(segments, [], new Set()))).toBe(
      'Choose segments to see the profile attributes they carry.',
    );
    expect(offerNote(attributeChoices(segments, ['c'], new Set()))).toBe(
      'The selected segment does not report the attributes its profiles carry; type attribute names by hand below.',
    );
    expect(offerNote({ selected: 2, reporting: 0, choices: [] })).toBe(
      'None of the 2 selected segments reports the attributes its profiles carry; type attribute names by hand below.',
    );
  });

  it('says how many segments it cannot speak for, and when everything offered is mapped', () => {
    expect(offerNote(attributeChoices(segments, ['c', 'd'], new Set()))).toBe(
      '1 of the 2 selected segments does not report its attributes.',
    );
    expect(offerNote(attributeChoices(segments, ['d'], new Set(['region'])))).toBe(
      'Every attribute the selected segments report is mapped.',
    );
    expect(offerNote(attributeChoices(segments, ['a', 'b'], new Set()))).toBeUndefined();
  });
});

describe('the data-matching picker: what picking an attribute adds', () => {
  it('fills an empty standard field whose name the attribute spells another way', () => {
    const { next, added } = addAttribute(matching(), 'first_name');

    expect(added).toEqual({ kind: 'standard', field: 'FirstName' });
    expect(next.fields).toEqual({ FirstName: 'first_name', LastName: '' });
    expect(next.custom).toEqual([]);
  });

  it('adds a standard field not on the form yet', () => {
    const { next, added } = addAttribute(matching(), 'Mailing-City');

    expect(added).toEqual({ kind: 'standard', field: 'MailingCity' });
    expect(next.fields).toEqual({ FirstName: '', LastName: '', MailingCity: 'Mailing-City' });
  });

  it('adds a string custom field, named from the attribute, when no standard field matches or it is taken', () => {
    const taken = matching({ fields: { FirstName: 'given_name', LastName: '' } });

    const first = addAttribute(taken, 'first_name');
    const seats = addAttribute(first.next, 'lifetime_value');

    expect(first.added).toEqual({ kind: 'custom', index: 0 });
    expect(seats.added).toEqual({ kind: 'custom', index: 1 });
    expect(seats.next.fields).toEqual({ FirstName: 'given_name', LastName: '' });
    expect(seats.next.custom).toEqual([
      { name: 'First name', type: 'string', source: 'first_name' },
      { name: 'Lifetime value', type: 'string', source: 'lifetime_value' },
    ]);
  });

  it('names a custom field so the API accepts the name, and never twice the same', () => {
    for (const attribute of [
      'plan--name',
      '__proto__',
      'a.b.c',
      ' spaced  out ',
      'x'.repeat(300),
      '___',
      'é_ü',
    ]) {
      const name = customFieldName(attribute, []);
      expect(CustomFieldNameSchema.safeParse(name).success, `${attribute} → ${name}`).toBe(true);
    }
    expect(customFieldName('plan', ['Plan'])).toBe('Plan 2');
    expect(customFieldName('plan', ['Plan', 'Plan 2'])).toBe('Plan 3');
  });
});
