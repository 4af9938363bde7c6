import { describe, expect, it } from 'vitest';
import { coerceCustom } from '#lib/domain/coerce.ts';
import { DataMatchingSchema } from '#lib/domain/export-config.ts';
import { mapProfile } from '#lib/domain/mapping.ts';

const matching = DataMatchingSchema.parse({
  email: 'email',
  fields: { FirstName: 'first', LastName: 'name.last', NumberOfEmployees: 'staff' },
  custom: [
    { name: 'Plan Name', type: 'string', source: 'plan' },
    { name: 'Seats', type: 'integer', source: 'seats' },
    { name: 'Spend', type: 'float', source: 'spend' },
    { name: 'Trial', type: 'boolean', source: 'trial' },
    { name: 'Renewal', type: 'date', source: 'renewal' },
  ],
  updatedAt: 'updated',
});

describe('mapProfile', () => {
  it('maps standard and typed custom fields, reading nested paths', () => {
    const outcome = mapProfile(
      {
        id: 'p1',
        attributes: {
          email: ' Ann@Example.com',
          first: ' Ann ',
          name: { last: 'Lee' },
          staff: 250,
          plan: 'pro',
          seats: '12',
          spend: '99.5',
          trial: 'yes',
          renewal: '2026-01-31',
          updated: '2026-11-01T10:00:00Z',
        },
      },
      matching,
    );
    expect(outcome).toEqual({
      ok: true,
      fieldIssues: [],
      contact: {
        key: 'ann@example.com',
        profileId: 'p1',
        updatedAt: Date.parse('2026-11-01T10:00:00Z'),
        data: {
          email: 'Ann@Example.com',
          fields: { FirstName: 'Ann', LastName: 'Lee', NumberOfEmployees: '250' },
          custom: {
            'Plan Name': { type: 'string', value: 'pro' },
            Seats: { type: 'integer', value: 12 },
            Spend: { type: 'float', value: 99.5 },
            Trial: { type: 'boolean', value: true },
            Renewal: { type: 'date', value: '2026-01-31T00:00:00.000Z' },
          },
        },
      },
    });
  });

  it('skips a profile whose email is invalid, with the reason', () => {
    expect(mapProfile({ id: 'p2', attributes: { email: 'nobody' } }, matching)).toEqual({
      ok: false,
      reason: 'email_missing_at',
    });
    expect(mapProfile({ id: 'p3', attributes: {} }, matching)).toEqual({
      ok: false,
      reason: 'email_missing',
    });
  });

  it('drops values that cannot be coerced from the contact and reports each, keeping the rest', () => {
    const outcome = mapProfile(
      {
        id: 'p4',
        attributes: {
          email: 'x@example.com',
          first: { nested: true },
          seats: '12.5',
          spend: 'lots',
          trial: 'maybe',
          renewal: 'someday',
          updated: 'yesterday',
          plan: 'basic',
        },
      },
      matching,
    );
    if (!outcome.ok) throw new Error('expected a contact');
    expect(outcome.contact.data.custom).toEqual({ 'Plan Name': { type: 'string', value: 'basic' } });
    expect(outcome.contact.data.fields).toEqual({});
    expect(outcome.contact.updatedAt).toBeUndefined();
    expect(outcome.fieldIssues).toEqual([
      { field: 'FirstName', reason: 'not_a_scalar' },
      { field: 'Seats', reason: 'not_an_integer' },
      { field: 'Spend', reason: 'not_a_number' },
      { field: 'Trial', reason: 'not_a_boolean' },
      { field: 'Renewal', reason: 'not_a_date' },
      { field: 'updated', reason: 'not_a_date' },
    ]);
  });

  it('treats empty and null values as absent, not as issues', () => {
    const outcome = mapProfile(
      { id: 'p5', attributes: { email: 'y@example.com', first: '', seats: null } },
      matching,
    );
    expect(outcome.ok && outcome.fieldIssues).toEqual([]);
    expect(outcome.ok && outcome.contact.data.fields).toEqual({});
  });
});

describe('coerceCustom', () => {
  it.each([
    ['integer', 7, 7],
    ['integer', '-3', -3],
    ['float', 1e3, 1000],
    ['float', '.5', 0.5],
    ['boolean', 0, false],
    ['boolean', 'FALSE', false],
    ['date', 1_700_000_000, '2023-11-14T22:13:20.000Z'],
    ['date', 1_700_000_000_000, '2023-11-14T22:13:20.000Z'],
    ['date', 'Tue, 12 May 2015 21:41:31 GMT', '2015-05-12T21:41:31.000Z'],
    ['string', true, 'true'],
  ] as const)('%s from %j → %j', (type, raw, value) => {
    expect(coerceCustom(type, raw)).toEqual({ ok: true, value });
  });

  it.each([
    ['integer', 2 ** 60, 'not_an_integer'],
    ['integer', 1.5, 'not_an_integer'],
    ['float', Number.NaN, 'not_a_number'],
    ['float', '1,5', 'not_a_number'],
    ['boolean', 2, 'not_a_boolean'],
    ['date', {}, 'not_a_date'],
    ['string', [1, 2], 'not_a_scalar'],
    ['string', Number.POSITIVE_INFINITY, 'not_a_finite_number'],
  ] as const)('%s from %j is refused as %s', (type, raw, reason) => {
    expect(coerceCustom(type, raw)).toEqual({ ok: false, reason });
  });
});
