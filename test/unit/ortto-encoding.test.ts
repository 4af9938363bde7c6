import { describe, expect, it } from 'vitest';
import { orttoCosts, orttoRequests } from '#lib/adapters/ortto/cost-model.ts';
import { encodeNewField, fieldHasType } from '#lib/adapters/ortto/custom-fields.ts';
import {
  encodeMergeOptions,
  encodePerson,
  type MergeOptions,
  type OrttoPerson,
} from '#lib/adapters/ortto/encoding.ts';
import { ORTTO_HOSTS, type OrttoRegion, orttoBaseUrl } from '#lib/adapters/ortto/requester.ts';
import { FatalRunError, ValidationError } from '#lib/domain/errors.ts';

const byEmail = ['str::email'];
const issuesOf = (f: () => unknown): Array<{ path: string; reason: string }> => {
  try {
    f();
  } catch (e) {
    if (e instanceof ValidationError) return [...e.issues];
    throw e;
  }
  throw new Error('expected a ValidationError');
};

describe('encodePerson', () => {
  it('writes fields, tags and unset_tags, leaving out empty tag lists', () => {
    expect(encodePerson({ fields: { 'str::email': 'a@example.com', 'str::first': null } }, byEmail)).toEqual({
      fields: { 'str::email': 'a@example.com', 'str::first': null },
    });
    expect(
      encodePerson(
        { fields: { 'str::email': 'a@example.com' }, tags: ['seg:1'], unsetTags: ['seg:2'] },
        byEmail,
      ),
    ).toEqual({ fields: { 'str::email': 'a@example.com' }, tags: ['seg:1'], unset_tags: ['seg:2'] });
  });

  it.each(['bol::p', 'bol::sp', 'BOL::P', ' bol::sp '])(
    'refuses the consent field %j, whatever its value',
    (id) => {
      for (const value of [true, false, null]) {
        const person: OrttoPerson = { fields: { 'str::email': 'a@example.com', [id]: value } };
        expect(issuesOf(() => encodePerson(person, byEmail))).toEqual([
          {
            path: `fields.${id}`,
            reason: 'consent fields are never sent: they would re-subscribe or unsubscribe the person',
          },
        ]);
      }
    },
  );

  it('names every value that does not fit its field type', () => {
    const person: OrttoPerson = {
      fields: {
        'str::email': 'a@example.com',
        'str::first': 'x'.repeat(256),
        'txt:cm:notes': 'x'.repeat(4_001),
        'int:cm:seats': 2.5,
        'bol:cm:vip': 'yes',
        nocolon: 'x',
      },
    };
    expect(issuesOf(() => encodePerson(person, byEmail))).toEqual([
      { path: 'fields.str::first', reason: 'longer than 255 characters' },
      { path: 'fields.txt:cm:notes', reason: 'longer than 4000 characters' },
      { path: 'fields.int:cm:seats', reason: 'expected a whole number (decimals are sent ×1000)' },
      { path: 'fields.bol:cm:vip', reason: 'expected true or false' },
      { path: 'fields.nocolon', reason: 'not an Ortto field id' },
    ]);
  });

  it('takes values at their limits, and types it does not know as they are', () => {
    const person: OrttoPerson = {
      fields: {
        'str::email': 'a@example.com',
        'str::last': 'x'.repeat(255),
        'txt:cm:notes': 'x'.repeat(4_000),
        'int:cm:seats': Number.MAX_SAFE_INTEGER,
        'phn::phone': { c: '61', n: '400000000' },
      },
    };
    expect(encodePerson(person, byEmail).fields).toEqual(person.fields);
  });

  it('refuses a tag in both lists, an empty or over-long tag, and a person with no merge key', () => {
    const fields = { 'str::email': 'a@example.com' };
    expect(issuesOf(() => encodePerson({ fields, tags: ['s'], unsetTags: ['s'] }, byEmail))).toEqual([
      { path: 'tags', reason: 'a tag is in both tags and unsetTags' },
    ]);
    expect(
      issuesOf(() => encodePerson({ fields, tags: [''], unsetTags: ['t'.repeat(256)] }, byEmail)),
    ).toEqual([
      { path: 'tags[0]', reason: 'a tag must be a non-empty string' },
      { path: 'unsetTags[0]', reason: 'longer than 255 characters' },
    ]);
    expect(
      issuesOf(() => encodePerson({ fields: { 'str::email': '  ' } }, ['str::email', 'str::ei'])),
    ).toEqual([{ path: 'fields', reason: 'no value for any merge_by field (str::email, str::ei)' }]);
    expect(encodePerson({ fields: { 'str::ei': 'u-1' } }, ['str::email', 'str::ei']).fields).toEqual({
      'str::ei': 'u-1',
    });
  });
});

describe('encodeMergeOptions', () => {
  it('defaults to overwrite, synchronously, and passes the rest through', () => {
    expect(encodeMergeOptions({ mergeBy: ['str::email'] })).toEqual({
      merge_by: ['str::email'],
      merge_strategy: 2,
      async: false,
    });
    expect(
      encodeMergeOptions({
        mergeBy: ['str::ei', 'str::email'],
        mergeStrategy: 1,
        findStrategy: 1,
        skipNonExisting: true,
        suppressionListFieldId: 'str::email',
      }),
    ).toEqual({
      merge_by: ['str::ei', 'str::email'],
      merge_strategy: 1,
      find_strategy: 1,
      skip_non_existing: true,
      suppression_list_field_id: 'str::email',
      async: false,
    });
  });

  it.each<[string, MergeOptions, string]>([
    ['no key', { mergeBy: [] }, 'mergeBy: 1 to 3 fields, got 0'],
    [
      'four keys',
      { mergeBy: ['str::email', 'str::ei', 'str:cm:a', 'str:cm:b'] },
      'mergeBy: 1 to 3 fields, got 4',
    ],
    ['a repeated key', { mergeBy: ['str::email', 'str::email'] }, 'mergeBy: a field is repeated'],
    [
      'a field that identifies nobody',
      { mergeBy: ['str::first'] },
      'mergeBy: str::first is not an identifying field',
    ],
    [
      'person_id with another key',
      { mergeBy: ['str::person_id', 'str::email'] },
      'mergeBy: str::person_id must stand alone',
    ],
    ['strategy 4', { mergeBy: byEmail, mergeStrategy: 4 as 2 }, 'mergeStrategy: expected 1, 2 or 3'],
    [
      'another suppression field',
      { mergeBy: byEmail, suppressionListFieldId: 'str::ei' as 'str::email' },
      'suppressionListFieldId: only str::email is supported',
    ],
  ])('refuses %s', (_name, options, message) => {
    expect(() => encodeMergeOptions(options)).toThrow(message);
  });
});

describe('custom fields', () => {
  it('checks a field’s type by its display type, and by its id’s prefix where Ortto’s is known', () => {
    expect(fieldHasType({ id: 'str:cm:plan', name: 'Plan', displayType: 'text' }, 'text')).toBe(true);
    expect(fieldHasType({ id: 'int:cm:plan', name: 'Plan', displayType: 'text' }, 'text')).toBe(false);
    expect(fieldHasType({ id: 'str:cm:plan', name: 'Plan', displayType: 'single_select' }, 'text')).toBe(
      false,
    );
    expect(fieldHasType({ id: 'xyz:cm:when', name: 'When', displayType: 'time' }, 'time')).toBe(true);
  });

  it('refuses a create body Ortto would refuse, naming the field', () => {
    expect(encodeNewField({ name: ' Plan ', type: 'text' })).toEqual({
      name: 'Plan',
      type: 'text',
      track_changes: false,
    });
    expect(() => encodeNewField({ name: '', type: 'text' })).toThrow('name: expected 1 to 100 characters');
    expect(() => encodeNewField({ name: 'Agg', type: 'aggregate' as 'text' })).toThrow(
      /^type: expected one of text/,
    );
    expect(() => encodeNewField({ name: 'Tier', type: 'single_select', values: [] })).toThrow(
      'values: required for single_select',
    );
    expect(() => encodeNewField({ name: 'Tier', type: 'text', values: ['a'] })).toThrow(
      'values: only for single_select and multi_select',
    );
  });
});

describe('regions and costs', () => {
  it('maps each region to its host, and refuses one it does not know', () => {
    expect((['global', 'eu', 'au'] as const).map(orttoBaseUrl)).toEqual([
      'https://api.ap3api.com/v1',
      'https://api.eu.ap3api.com/v1',
      'https://api.au.ap3api.com/v1',
    ]);
    expect(Object.keys(ORTTO_HOSTS)).toHaveLength(3);
    for (const bad of ['us', '__proto__', 'toString']) {
      const err = (() => {
        try {
          orttoBaseUrl(bad as OrttoRegion);
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(FatalRunError);
      expect((err as FatalRunError).reason).toBe('configuration');
    }
  });

  it('prices a merge per 100 changed people, joins and leaves included', () => {
    expect(orttoRequests.merge(100_000)).toBe(1_000);
    expect(orttoRequests.merge(101)).toBe(2);
    expect(orttoRequests.merge(0)).toBe(0);
    expect(orttoRequests.readBack(1_001)).toBe(4);
    expect(orttoCosts).toMatchObject({ bulkLimit: 100, documentedRatePerSecond: 10, listLeaveInBulk: true });
    expect(orttoCosts.listJoinInBulk('unknown')).toBe(true);
  });
});
