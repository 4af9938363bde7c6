import { describe, expect, it } from 'vitest';
import { ValidationError } from '#lib/domain/errors.ts';
import { ExportConfigSchema, listTitle, membershipFieldName } from '#lib/domain/export-config.ts';
import { parseOrThrow } from '#lib/domain/validation.ts';
import { anExportConfig } from '#test/fixtures/builders.ts';

const issuesOf = (input: unknown): Array<{ path: string; reason: string }> => {
  try {
    parseOrThrow(ExportConfigSchema, input);
  } catch (e) {
    if (e instanceof ValidationError) return [...e.issues];
    throw e;
  }
  return [];
};

const valid = {
  name: 'Newsletter',
  connectionId: 'conn-1',
  segmentIds: ['seg-a', 'seg-b'],
  dataMatching: {
    email: 'email',
    fields: { FirstName: 'first', LastName: 'last', Company: 'org' },
    custom: [{ name: 'Plan Name', type: 'string', source: 'plan' }],
  },
};

describe('export configuration', () => {
  it('fills documented defaults: list membership, remove leavers, cap 100,000 failing when exceeded, scheduled', () => {
    const config = ExportConfigSchema.parse(valid);
    expect(config).toMatchObject({
      membership: 'list',
      onLeave: 'remove',
      cap: 100_000,
      capPolicy: 'fail',
      scheduled: true,
      listTitles: {},
      adoptExistingLists: false,
    });
  });

  it('requires the email mapping and names the field', () => {
    const issues = issuesOf({ ...valid, dataMatching: { fields: {} } });
    expect(issues.map((i) => i.path)).toContain('dataMatching.email');
  });

  it('refuses an unknown standard field and a writable-but-forbidden one like unsubscribed', () => {
    expect(issuesOf({ ...valid, dataMatching: { email: 'e', fields: { Nickname: 'n' } } })[0]?.path).toBe(
      'dataMatching.fields.Nickname',
    );
    expect(issuesOf({ ...valid, dataMatching: { email: 'e', fields: { unsubscribed: 'u' } } })[0]?.path).toBe(
      'dataMatching.fields.unsubscribed',
    );
  });

  it('requires at least one segment and refuses duplicates', () => {
    expect(issuesOf({ ...valid, segmentIds: [] })).toEqual([
      { path: 'segmentIds', reason: 'select at least one segment' },
    ]);
    expect(issuesOf({ ...valid, segmentIds: ['a', 'b', 'a'] })).toEqual([
      { path: 'segmentIds.2', reason: 'duplicate segment "a"' },
    ]);
  });

  it('refuses custom field names that would not survive Autopilot encoding, and untyped fields', () => {
    const custom = (name: string, type = 'string') => ({
      ...valid,
      dataMatching: { email: 'e', custom: [{ name, type, source: 's' }] },
    });
    expect(issuesOf(custom('Plan--Name'))[0]?.path).toBe('dataMatching.custom.0.name');
    expect(issuesOf(custom(' Plan'))[0]?.reason).toBe('must not start or end with a space');
    expect(issuesOf(custom('Plan  Name'))[0]?.path).toBe('dataMatching.custom.0.name');
    expect(issuesOf(custom('Plan', 'text'))[0]?.path).toBe('dataMatching.custom.0.type');
    expect(issuesOf(custom('Plan Name', 'date'))).toEqual([]);
  });

  it('refuses control characters and unpaired surrogates in custom field names', () => {
    const custom = (name: string) => ({
      ...valid,
      dataMatching: { email: 'e', custom: [{ name, type: 'string', source: 's' }] },
    });
    for (const name of ['Plan\u0007Name', 'Plan\u001bName', 'Plan\ud800Name', 'Plan\u0085']) {
      expect(issuesOf(custom(name))).toEqual([
        {
          path: 'dataMatching.custom.0.name',
          reason: 'must not contain control characters or unpaired surrogates',
        },
      ]);
    }
  });

  it('refuses two custom fields with the same name, whatever the case', () => {
    const issues = issuesOf({
      ...valid,
      dataMatching: {
        email: 'e',
        custom: [
          { name: 'Plan', type: 'string', source: 'a' },
          { name: 'plan', type: 'integer', source: 'b' },
        ],
      },
    });
    expect(issues).toEqual([{ path: 'dataMatching.custom.1.name', reason: 'duplicate custom field "plan"' }]);
  });

  it('refuses list-title and membership-field overrides for segments the export does not select', () => {
    const issues = issuesOf({
      ...valid,
      listTitles: { 'seg-z': 'Z' },
      membershipFields: { 'seg-y': 'In Y' },
    });
    expect(issues.map((i) => i.path)).toEqual(['listTitles.seg-z', 'membershipFields.seg-y']);
  });

  it('accepts the truncate cap policy, field membership and keep-on-leave', () => {
    const config = ExportConfigSchema.parse({
      ...valid,
      capPolicy: 'truncate',
      membership: 'field',
      onLeave: 'keep',
      cap: 5,
    });
    expect(config).toMatchObject({ capPolicy: 'truncate', membership: 'field', onLeave: 'keep', cap: 5 });
  });

  it('titles lists by segment name unless overridden, and names membership fields "Segment <name>"', () => {
    const config = anExportConfig({ segmentIds: ['a', 'b'], listTitles: { a: 'VIPs (export)' } });
    expect(listTitle(config, { id: 'a', name: 'VIP' })).toBe('VIPs (export)');
    expect(listTitle(config, { id: 'b', name: 'Churn risk' })).toBe('Churn risk');
    expect(membershipFieldName(config, { id: 'b', name: 'Churn  risk -- EU' })).toBe(
      'Segment Churn risk - EU',
    );
  });
});
