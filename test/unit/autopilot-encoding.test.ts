import { describe, expect, it } from 'vitest';
import { autopilotCosts } from '#lib/adapters/autopilot/cost-model.ts';
import {
  customFieldKey,
  decodeContact,
  encodeContact,
  parseCustomFieldKey,
  parseTimestamp,
} from '#lib/adapters/autopilot/encoding.ts';
import type { ContactData } from '#lib/domain/contact.ts';
import { ValidationError } from '#lib/domain/errors.ts';

const contact = (over: Partial<ContactData> = {}): ContactData => ({
  email: 'Ann.Lee@Example.com',
  fields: {},
  custom: {},
  ...over,
});

describe('custom field keys', () => {
  it.each([
    ['string', 'Plan Name', 'string--Plan--Name'],
    ['integer', 'Seats', 'integer--Seats'],
    ['float', 'Lifetime Value EUR', 'float--Lifetime--Value--EUR'],
    ['boolean', 'UX Interest', 'boolean--UX--Interest'],
    ['date', 'Signed Up On', 'date--Signed--Up--On'],
  ] as const)('a %s field named "%s" is sent as %s and read back', (type, name, key) => {
    expect(customFieldKey(type, name)).toBe(key);
    expect(parseCustomFieldKey(key)).toEqual({ type, name });
  });

  it('keys without a known type are not custom field keys', () => {
    expect(parseCustomFieldKey('text--Plan')).toBeUndefined();
    expect(parseCustomFieldKey('Plan')).toBeUndefined();
    expect(parseCustomFieldKey('string--')).toBeUndefined();
  });
});

describe('encodeContact', () => {
  it('puts standard fields at the top level with exact casing and the email as Email', () => {
    const wire = encodeContact(
      contact({
        fields: { FirstName: 'Ann', owner_name: 'Bo', MailingPostalCode: '1011 AB', LinkedIn: 'x' },
      }),
    );
    expect(wire).toEqual({
      Email: 'Ann.Lee@Example.com',
      FirstName: 'Ann',
      owner_name: 'Bo',
      MailingPostalCode: '1011 AB',
      LinkedIn: 'x',
    });
  });

  it('types every custom value and keys it by type and dashed name', () => {
    const wire = encodeContact(
      contact({
        custom: {
          'Plan Name': { type: 'string', value: 'pro' },
          Seats: { type: 'integer', value: 5 },
          'Seat Count Text': { type: 'integer', value: '12' },
          'Life Time Value': { type: 'float', value: 12.5 },
          'Has Reviewed': { type: 'boolean', value: false },
          'Review Date': { type: 'date', value: '2016-11-22T00:00:00.000Z' },
          'Old Date': { type: 'date', value: 'Tue, 12 May 2015 21:41:31 GMT' },
          Zip: { type: 'string', value: 1234 },
        },
      }),
    );
    expect(wire.custom).toEqual({
      'string--Plan--Name': 'pro',
      'integer--Seats': 5,
      'integer--Seat--Count--Text': 12,
      'float--Life--Time--Value': 12.5,
      'boolean--Has--Reviewed': false,
      'date--Review--Date': '2016-11-22T00:00:00.000Z',
      'date--Old--Date': '2015-05-12T21:41:31.000Z',
      'string--Zip': '1234',
    });
  });

  it('adds _autopilot_list only when a list is given', () => {
    expect(encodeContact(contact(), 'contactlist_1')._autopilot_list).toBe('contactlist_1');
    expect(encodeContact(contact())).not.toHaveProperty('_autopilot_list');
    expect(encodeContact(contact())).not.toHaveProperty('custom');
  });

  it('never sends unsubscribed, even when a caller smuggles it in', () => {
    const sneaky = contact({
      fields: { unsubscribed: 'true', Unsubscribed: 'true' } as ContactData['fields'],
    });
    const wire = encodeContact(sneaky);
    expect(Object.keys(wire).some((k) => k.toLowerCase() === 'unsubscribed')).toBe(false);
  });

  it('refuses values that do not fit their type, naming each field', () => {
    const bad = contact({
      custom: {
        Seats: { type: 'integer', value: 1.5 },
        Flag: { type: 'boolean', value: 'yes' },
        When: { type: 'date', value: 'someday' },
        Score: { type: 'float', value: 'high' },
      },
    });
    const err = (() => {
      try {
        encodeContact(bad);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues).toEqual([
      { path: 'custom.Seats', reason: 'not_an_integer' },
      { path: 'custom.Flag', reason: 'not_a_boolean' },
      { path: 'custom.When', reason: 'not_a_date' },
      { path: 'custom.Score', reason: 'not_a_number' },
    ]);
  });
});

describe('decodeContact', () => {
  it('maps custom_fields kinds back to names, skips deleted ones and keeps standard fields', () => {
    const decoded = decodeContact({
      contact_id: 'person_1',
      Email: 'a@example.com',
      FirstName: 'Ann',
      NumberOfEmployees: 12,
      Name: 'Ann Lee',
      lists: ['contactlist_1'],
      created_at: '2017-01-14T04:13:43.000Z',
      updated_at: 'Tue, 12 May 2015 21:41:31 GMT',
      custom_fields: [
        { kind: 'Review Rating', value: 5, fieldType: 'integer', deleted: false },
        { kind: 'Review Date', value: '2016-11-22T00:00:00.000Z', fieldType: 'date' },
        { kind: 'Gone', value: true, fieldType: 'boolean', deleted: true },
        { kind: 'Odd', value: 'x', fieldType: 'mystery' },
      ],
    });
    expect(decoded).toEqual({
      contactId: 'person_1',
      email: 'a@example.com',
      fields: { FirstName: 'Ann', NumberOfEmployees: '12' },
      custom: {
        'Review Rating': { type: 'integer', value: 5 },
        'Review Date': { type: 'date', value: '2016-11-22T00:00:00.000Z' },
      },
      lists: ['contactlist_1'],
      createdAt: new Date('2017-01-14T04:13:43.000Z'),
      updatedAt: new Date('2015-05-12T21:41:31.000Z'),
      unsubscribed: undefined,
    });
  });
});

describe('parseTimestamp', () => {
  it.each([
    ['2017-01-14T04:13:43.000Z', '2017-01-14T04:13:43.000Z'],
    ['2017-01-14T04:13:43+01:00', '2017-01-14T03:13:43.000Z'],
    ['2016-11-22', '2016-11-22T00:00:00.000Z'],
    ['Tue, 12 May 2015 21:41:31 GMT', '2015-05-12T21:41:31.000Z'],
  ])('reads %s', (text, iso) => {
    expect(parseTimestamp(text)?.toISOString()).toBe(iso);
  });

  it.each(['', 'yesterday', '12/05/2015', '2015-13-45T99:00:00Z'])('refuses %j', (text) => {
    expect(parseTimestamp(text)).toBeUndefined();
  });
});

describe('autopilotCosts', () => {
  it('bulk-joins lists only where the probe found it supported; leaves are one call each', () => {
    expect(autopilotCosts.bulkLimit).toBe(100);
    expect(autopilotCosts.listJoinInBulk('supported')).toBe(true);
    expect(autopilotCosts.listJoinInBulk('unsupported')).toBe(false);
    expect(autopilotCosts.listJoinInBulk('unknown')).toBe(false);
    expect(autopilotCosts.listLeaveInBulk).toBe(false);
  });
});
