import { describe, expect, it } from 'vitest';
import { decodeContact, encodeContact } from '#lib/adapters/autopilot/encoding.ts';
import { ValidationError } from '#lib/domain/errors.ts';
import { ExportConfigSchema, listTitle, membershipFieldName } from '#lib/domain/export-config.ts';
import { contentHash } from '#lib/domain/hash.ts';
import { mapProfile, readAttribute } from '#lib/domain/mapping.ts';
import { parseOrThrow } from '#lib/domain/validation.ts';

/*
 * Names that come from outside (custom field names, segment ids, profile attributes, Autopilot's
 * field kinds) end up as object keys. `__proto__` as a key of a plain object is the prototype
 * setter, not a property, and `constructor` or `toString` are found on every object's prototype.
 */

const issuesOf = (input: unknown): Array<{ path: string; reason: string }> => {
  try {
    parseOrThrow(ExportConfigSchema, input);
  } catch (e) {
    if (e instanceof ValidationError) return [...e.issues];
    throw e;
  }
  return [];
};

const config = (over: Record<string, unknown> = {}) => ({
  name: 'Newsletter',
  connectionId: 'conn-1',
  segmentIds: ['seg-a'],
  dataMatching: { email: 'email' },
  ...over,
});

describe('custom field names that are object internals', () => {
  it.each(['__proto__', 'constructor', 'prototype'])(
    'a custom field named "%s" is refused, naming the field',
    (name) => {
      const issues = issuesOf(
        config({ dataMatching: { email: 'email', custom: [{ name, type: 'string', source: 'plan' }] } }),
      );
      expect(issues).toEqual([
        { path: 'dataMatching.custom.0.name', reason: `"${name}" is a reserved name; choose another` },
      ]);
    },
  );

  it('a membership field named "__proto__" is refused for its segment', () => {
    const issues = issuesOf(config({ membership: 'field', membershipFields: { 'seg-a': '__proto__' } }));
    expect(issues).toEqual([
      { path: 'membershipFields.seg-a', reason: '"__proto__" is a reserved name; choose another' },
    ]);
  });

  it.each(['toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', 'Constructor', 'Prototype'])(
    'a custom field named "%s" is mapped, hashed and encoded like any other name',
    (name) => {
      const matching = ExportConfigSchema.parse(
        config({ dataMatching: { email: 'email', custom: [{ name, type: 'integer', source: 'n' }] } }),
      ).dataMatching;
      const outcome = mapProfile({ id: 'p1', attributes: { email: 'ann@example.com', n: '7' } }, matching);
      if (!outcome.ok) throw new Error(outcome.reason);
      expect(Object.entries(outcome.contact.data.custom)).toEqual([[name, { type: 'integer', value: 7 }]]);
      expect(encodeContact(outcome.contact.data).custom).toEqual({ [`integer--${name}`]: 7 });
      const other = { ...outcome.contact.data, custom: { [name]: { type: 'integer' as const, value: 8 } } };
      expect(contentHash(other)).not.toBe(contentHash(outcome.contact.data));
    },
  );
});

describe('segment ids that are object internals', () => {
  it.each(['constructor', 'toString', 'hasOwnProperty', 'prototype'])(
    'a segment "%s" without overrides gets its own name as list title and membership field',
    (id) => {
      const exp = ExportConfigSchema.parse(config({ segmentIds: [id] }));
      expect(listTitle(exp, { id, name: 'VIP' })).toBe('VIP');
      expect(membershipFieldName(exp, { id, name: 'VIP' })).toBe('Segment VIP');
    },
  );

  it('a segment "constructor" keeps its overrides', () => {
    const overrides = JSON.parse('{"constructor": "Builders"}') as Record<string, string>;
    const exp = ExportConfigSchema.parse(
      config({ segmentIds: ['constructor'], listTitles: overrides, membershipFields: overrides }),
    );
    expect(listTitle(exp, { id: 'constructor', name: 'VIP' })).toBe('Builders');
    expect(membershipFieldName(exp, { id: 'constructor', name: 'VIP' })).toBe('Builders');
  });

  it('a segment "__proto__" is refused rather than losing its overrides', () => {
    expect(issuesOf(config({ segmentIds: ['__proto__'] }))).toEqual([
      { path: 'segmentIds.0', reason: '"__proto__" is not a supported segment id' },
    ]);
  });

  it('a "__proto__" override parsed from JSON is refused, not silently dropped', () => {
    const listTitles = JSON.parse('{"__proto__": "Hijacked"}') as Record<string, string>;
    const issues = issuesOf(config({ listTitles }));
    expect(issues.map((i) => i.path)).toEqual(['listTitles.__proto__']);
  });
});

describe('profile attributes that are object internals', () => {
  it.each(['constructor', 'toString', '__proto__', 'hasOwnProperty'])(
    'a profile without "%s" has no such attribute, at the top level or nested',
    (name) => {
      expect(readAttribute({ email: 'ann@example.com', a: {} }, name)).toBeUndefined();
      expect(readAttribute({ a: { b: 1 } }, `a.${name}`)).toBeUndefined();
    },
  );

  it.each(['constructor', 'toString', '__proto__'])(
    'a profile attribute named "%s" is read like any other',
    (name) => {
      const attributes = JSON.parse(`{"${name}": "ann@example.com", "nested": {"${name}": "12"}}`);
      expect(readAttribute(attributes, name)).toBe('ann@example.com');
      expect(readAttribute(attributes, `nested.${name}`)).toBe('12');
      const matching = ExportConfigSchema.parse(
        config({
          dataMatching: {
            email: name,
            custom: [{ name: 'Seats', type: 'integer', source: `nested.${name}` }],
          },
        }),
      ).dataMatching;
      const outcome = mapProfile({ id: 'p1', attributes }, matching);
      expect(outcome.ok && outcome.contact.data).toEqual({
        email: 'ann@example.com',
        fields: {},
        custom: { Seats: { type: 'integer', value: 12 } },
      });
    },
  );
});

describe('custom field kinds Autopilot reports', () => {
  it('a kind named "__proto__" is kept as a field and does not change what other names find', () => {
    const decoded = decodeContact({
      contact_id: 'person_1',
      custom_fields: [
        { kind: '__proto__', value: 'x', fieldType: 'string' },
        { kind: 'Plan', value: 'pro', fieldType: 'string' },
      ],
    });
    expect(Object.keys(decoded.custom)).toEqual(['__proto__', 'Plan']);
    expect(Object.hasOwn(decoded.custom, '__proto__')).toBe(true);
    expect(decoded.custom.type).toBeUndefined();
  });

  it.each(['constructor', 'toString'])('a contact without a "%s" field has none', (name) => {
    const decoded = decodeContact({ contact_id: 'person_1', custom_fields: [] });
    expect(decoded.custom[name]).toBeUndefined();
  });
});
