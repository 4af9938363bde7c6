import { describe, expect, it } from 'vitest';
import { STANDARD_FIELDS as DOMAIN_STANDARD_FIELDS, ExportConfigSchema } from '#lib/domain/export-config.ts';
import { capMeter, overCapReason } from '../../console/components/cap-meter.ts';
import { changedSettings } from '../../console/components/export-diff.ts';
import { durationText, estimateText } from '../../console/components/export-labels.ts';
import {
  type ExportView,
  emptyForm,
  formOf,
  inputOf,
  STANDARD_FIELDS,
} from '../../console/components/export-model.ts';
import { href, parseRoute } from '../../console/router.ts';
import { anExportView } from '../fixtures/console-views.ts';

const view = (patch: Partial<ExportView> = {}): ExportView =>
  anExportView({
    segmentIds: ['a', 'b'],
    dataMatching: {
      email: 'email',
      fields: { FirstName: 'first_name' },
      custom: [],
      updatedAt: 'updated_at',
    },
    listTitles: { a: 'List A', gone: 'Old list' },
    ...patch,
  });

describe('console exports: the cap meter', () => {
  const a = { id: 'a', name: 'Newsletter', profiles: 8 };
  const b = { id: 'b', name: 'VIP', profiles: 4 };

  it('sums the selected segments and says how full the cap is', () => {
    expect(capMeter([a, b], 24)).toEqual({ total: 12, cap: 24, percent: 50, overBy: 0, alone: [] });
    expect(overCapReason([a, b], capMeter([a, b], 24), 'fail')).toBeUndefined();
  });

  it('over the cap together, names every segment and by how much', () => {
    const meter = capMeter([a, b], 10);
    expect(meter).toMatchObject({ total: 12, percent: 120, overBy: 2, alone: [] });
    expect(overCapReason([a, b], meter, 'fail')).toBe(
      'Over the cap of 10 contacts: "Newsletter" (8 profiles) and "VIP" (4 profiles) hold 12 together, 2 over. ' +
        'Unless that many are shared or invalid, a run would fail. Choose fewer segments, or send up to the cap.',
    );
  });

  it('names only the segments that alone are over the cap, each with its excess', () => {
    const meter = capMeter([a, b], 5);
    expect(meter.alone).toEqual([{ segment: a, overBy: 3 }]);
    expect(overCapReason([a, b], meter, 'fail')).toContain('"Newsletter" (8 profiles) is 3 over');
    expect(overCapReason([a, b], meter, 'fail')).not.toContain('VIP');
  });

  it('lets an export that sends up to the cap be saved over it', () => {
    expect(overCapReason([a, b], capMeter([a, b], 5), 'truncate')).toBeUndefined();
  });

  it('never divides by a zero cap', () => {
    expect(capMeter([], 0).percent).toBe(0);
    expect(capMeter([a], 0).overBy).toBe(8);
  });
});

describe('console exports: what changed under a stale edit', () => {
  it('lists the settings that differ, by the names the form uses', () => {
    const loaded = view();
    const current = view({
      name: 'Renamed',
      scheduled: false,
      dataMatching: { ...loaded.dataMatching, custom: [{ name: 'Plan', type: 'string', source: 'plan' }] },
      version: 4,
      updatedBy: 'someone',
    });
    expect(changedSettings(loaded, current)).toEqual(['Name', 'Custom fields', 'Schedule']);
  });

  it('ignores segment order, map key order and bookkeeping (version, who, when)', () => {
    const loaded = view();
    const current = view({
      segmentIds: ['b', 'a'],
      listTitles: { gone: 'Old list', a: 'List A' },
      version: 9,
      updatedAt: '2026-02-02T00:00:00.000Z',
      lastRun: { runId: 'run-1', status: 'succeeded', counts: null },
    });
    expect(changedSettings(loaded, current)).toEqual([]);
  });
});

describe('console exports: the form and the document the API takes', () => {
  it('round-trips an export, dropping overrides for segments no longer selected', () => {
    const loaded = view();
    const form = { ...formOf(loaded), segmentIds: ['a'] };
    const input = inputOf(form, loaded);
    expect(input.listTitles).toEqual({ a: 'List A' });
    expect(input.scheduled).toBe(true);
    expect(input.cap).toBe(5_000);
    expect(input.dataMatching).toEqual(loaded.dataMatching);
  });

  it('makes a new export scheduled, as the API does when the field is left out', () => {
    expect(inputOf({ ...emptyForm(), name: 'New' }, undefined).scheduled).toBe(true);
  });

  it('leaves out blank optional attributes, and a new export passes the API schema', () => {
    const input = inputOf({ ...emptyForm(), name: 'New', connectionId: 'c', segmentIds: ['a'] }, undefined);
    expect(input.dataMatching).toEqual({ email: 'email', fields: {}, custom: [] });
    expect(ExportConfigSchema.safeParse(input).success).toBe(true);
  });

  it('offers exactly the standard fields the export schema allows', () => {
    expect([...STANDARD_FIELDS]).toEqual([...DOMAIN_STANDARD_FIELDS]);
  });
});

describe('console exports: routes', () => {
  it('tells the list, new, an export, its edit page and its run history apart', () => {
    expect(parseRoute('#/exports')).toEqual({ page: 'exports' });
    expect(parseRoute('#/exports/new')).toEqual({ page: 'export-new' });
    expect(parseRoute('#/exports/exp%2F1')).toEqual({ page: 'export', id: 'exp/1' });
    expect(parseRoute('#/exports/exp-1/edit')).toEqual({ page: 'export-edit', id: 'exp-1' });
    expect(parseRoute('#/exports/exp-1/runs')).toEqual({ page: 'export-runs', id: 'exp-1' });
    expect(parseRoute(`#/exports/${'x'.repeat(257)}`)).toEqual({ page: 'not-found' });
  });

  it('builds the links it parses', () => {
    for (const route of [
      { page: 'exports' },
      { page: 'export-new' },
      { page: 'export', id: 'exp/1 ü' },
      { page: 'export-edit', id: 'exp 2' },
    ] as const) {
      expect(parseRoute(href(route))).toEqual(route);
    }
  });
});

describe('console exports: estimates in words', () => {
  it('says seconds under a minute, then rounds up to minutes, then hours and minutes', () => {
    expect(durationText(0)).toBe('0 s');
    expect(durationText(59.2)).toBe('1 min');
    expect(durationText(59)).toBe('59 s');
    expect(durationText(61)).toBe('2 min');
    expect(durationText(3_600)).toBe('1 h');
    expect(durationText(3_661)).toBe('1 h 2 min');
  });

  it('prices a membership mode as an upper bound', () => {
    expect(estimateText({ requests: 12_345, seconds: 2_469 })).toBe(
      'at most 12,345 request(s), about 42 min on a first run',
    );
  });
});
