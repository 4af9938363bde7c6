import { describe, expect, it } from 'vitest';
import { AUDIT_LIMITS, AuditEntrySchema, boundDetail, boundValue } from '#lib/domain/audit.ts';
import { AUDITED_FIELDS, diffFields } from '#lib/domain/audit-changes.ts';

describe('audit values are bounded', () => {
  it('a long string is cut to the bound, and says so', () => {
    const long = 'x'.repeat(AUDIT_LIMITS.valueChars * 40);
    const { value, truncated } = boundValue(long);
    expect(truncated).toBe(true);
    expect(value).toBe(`${'x'.repeat(AUDIT_LIMITS.valueChars)}…`);
  });

  it('a large object becomes the start of its JSON text, and says so', () => {
    const users = Array.from({ length: 100 }, (_, i) => ({ id: `user-${i}`, label: `Person ${i}` }));
    const { value, truncated } = boundValue(users);
    expect(truncated).toBe(true);
    expect(value).toBe(`${JSON.stringify(users).slice(0, AUDIT_LIMITS.valueChars)}…`);
  });

  it('a value within the bound is kept as it is', () => {
    expect(boundValue({ a: [1, null, 'b'] })).toEqual({ value: { a: [1, null, 'b'] }, truncated: false });
    expect(boundValue(null)).toEqual({ value: null, truncated: false });
  });

  it('a change whose value was cut is marked truncated', () => {
    const { changes } = diffFields(['displayName'], { displayName: 'a' }, { displayName: 'b'.repeat(2_000) });
    expect(changes).toEqual([
      { field: 'displayName', from: 'a', to: `${'b'.repeat(AUDIT_LIMITS.valueChars)}…`, truncated: true },
    ]);
  });

  it('detail strings and lists are cut too', () => {
    const detail = boundDetail({
      reason: 'r'.repeat(5_000),
      ids: Array.from({ length: 500 }, (_, i) => `id-${i}`),
      dry: true,
    });
    expect((detail.reason as string).length).toBe(AUDIT_LIMITS.valueChars + 1);
    expect(detail.ids).toHaveLength(AUDIT_LIMITS.detailItems);
    expect(detail.dry).toBe(true);
  });
});

describe('what changed', () => {
  it('lists only fields whose value differs, in the order of the field list', () => {
    const before = { name: 'A', cap: 10, scheduled: true, segmentIds: ['s1'] };
    const after = { name: 'A', cap: 20, scheduled: false, segmentIds: ['s1'] };
    expect(diffFields(['name', 'cap', 'scheduled', 'segmentIds'], before, after).changes).toEqual([
      { field: 'cap', from: 10, to: 20 },
      { field: 'scheduled', from: true, to: false },
    ]);
  });

  it('points inside nested objects, and lists a field that appeared or disappeared with one side', () => {
    const before = { dataMatching: { email: 'email', fields: { FirstName: 'first' }, updatedAt: 'ts' } };
    const after = { dataMatching: { email: 'email', fields: { FirstName: 'given', LastName: 'last' } } };
    expect(diffFields(['dataMatching'], before, after).changes).toEqual([
      { field: 'dataMatching.fields.FirstName', from: 'first', to: 'given' },
      { field: 'dataMatching.fields.LastName', to: 'last' },
      { field: 'dataMatching.updatedAt', from: 'ts' },
    ]);
  });

  it('the same object written with its keys in another order is no change', () => {
    const before = { listTitles: { a: 'A', b: 'B' } };
    const after = { listTitles: { b: 'B', a: 'A' } };
    expect(diffFields(['listTitles'], before, after).changes).toEqual([]);
  });

  it('a set field becoming null is a change to null', () => {
    expect(diffFields(['connectionId'], { connectionId: 'c1' }, { connectionId: null }).changes).toEqual([
      { field: 'connectionId', from: 'c1', to: null },
    ]);
  });

  it('a creation lists each set field whole, with its new value only', () => {
    const { changes } = diffFields(['name', 'dataMatching', 'connectionId'], undefined, {
      name: 'N',
      dataMatching: { email: 'e' },
    });
    expect(changes).toEqual([
      { field: 'name', to: 'N' },
      { field: 'dataMatching', to: { email: 'e' } },
    ]);
  });

  it('a webhook URL is named as changed, never written down: it may carry its receiver’s token', () => {
    const first = 'https://hooks.slack.com/services/T000/B000/first-secret-token';
    const second = 'https://hooks.slack.com/services/T000/B000/second-secret-token';
    const set = diffFields(
      AUDITED_FIELDS.export,
      { name: 'x' },
      { name: 'x', notifications: { webhookUrl: first } },
    );
    const edit = diffFields(
      AUDITED_FIELDS.export,
      { notifications: { webhookUrl: first } },
      { notifications: { webhookUrl: second } },
    );

    expect(set.changes).toEqual([{ field: 'notifications', changed: true }]);
    expect(edit.changes).toEqual([{ field: 'notifications.webhookUrl', changed: true }]);
    expect(JSON.stringify([set, edit])).not.toMatch(/secret-token/);
  });

  it('keeps at most the bound of changes and counts the rest', () => {
    const fields = Array.from({ length: AUDIT_LIMITS.changes + 7 }, (_, i) => `f${i}`);
    const after = Object.fromEntries(fields.map((f) => [f, 1]));
    const { changes, more } = diffFields(fields, undefined, after);
    expect(changes).toHaveLength(AUDIT_LIMITS.changes);
    expect(more).toBe(7);
  });

  it('never compares a connection field holding a key: the record has none, and no key field is audited', () => {
    expect(AUDITED_FIELDS.connection).not.toContain('apiKey');
    expect(AUDITED_FIELDS.connection).toEqual(expect.arrayContaining(['displayName', 'keyHint', 'status']));
  });

  it('an entry with an unknown action or resource type is refused by the schema', () => {
    const entry = {
      id: 'aud_1',
      at: '2026-01-01T00:00:00.000Z',
      actor: { id: 'u', role: 'admin' },
      action: 'connection.created',
      resource: { type: 'connection', id: 'c' },
    };
    expect(AuditEntrySchema.safeParse(entry).success).toBe(true);
    expect(AuditEntrySchema.safeParse({ ...entry, action: 'connection.stolen' }).success).toBe(false);
    expect(AuditEntrySchema.safeParse({ ...entry, resource: { type: 'run', id: 'r' } }).success).toBe(false);
  });
});
