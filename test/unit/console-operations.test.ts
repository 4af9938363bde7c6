import { describe, expect, it } from 'vitest';
import { ExportConfigSchema } from '#lib/domain/export-config.ts';
import { changeText, detailLines, valueText } from '../../console/components/audit-format.ts';
import { type ExportView, emptyForm, formOf, inputOf } from '../../console/components/export-model.ts';
import { repairSettingText, repairTargetOf } from '../../console/components/repair-text.ts';
import type { Run } from '../../console/components/run-format.ts';
import { canRetryFailed, namedContactsText } from '../../console/components/run-operations.ts';
import { anExportView, aRunView } from '../fixtures/console-views.ts';

const run = (over: Partial<Run> = {}, failed = 0): Run =>
  aRunView(
    { status: 'completed_with_errors', ...over },
    { unit: 'memberships', failed, failedByReason: failed > 0 ? { rejected: failed } : {} },
  );

describe('console operations: when Retry failed contacts is offered', () => {
  it('offers it on an ended run with failures to a caller who may run the export', () => {
    expect(canRetryFailed(run({}, 3), true)).toBe(true);
    expect(canRetryFailed(run({ status: 'failed' }, 1), true)).toBe(true);
    expect(canRetryFailed(run({ status: 'cancelled' }, 1), true)).toBe(true);
  });

  it('hides it when nothing failed, the run is still moving, or the caller may not run the export', () => {
    expect(canRetryFailed(run({ status: 'succeeded' }, 0), true)).toBe(false);
    expect(canRetryFailed(run({}, 3), false)).toBe(false);
    for (const status of ['planning', 'sending', 'awaiting_approval'] as const)
      expect(canRetryFailed(run({ status }, 3), true)).toBe(false);
  });

  it('never offers it on a dry run, which sends nothing', () => {
    expect(canRetryFailed(run({ trigger: 'dry-run', status: 'succeeded' }, 2), true)).toBe(false);
  });
});

describe('console operations: what a named-contacts run says', () => {
  it('says how many, and the run retried, never an address', () => {
    expect(namedContactsText(run({ namedContacts: { kind: 'resend', count: 1 } }))).toBe(
      'Re-send of 1 contact',
    );
    expect(namedContactsText(run({ namedContacts: { kind: 'retry', count: 1200, retryOf: 'run_9' } }))).toBe(
      'Retry of 1,200 contacts from run run_9',
    );
    expect(namedContactsText(run())).toBeUndefined();
  });
});

describe('console operations: audit changes in words', () => {
  it('shows old → new, only the new value on a creation, only the old on a removal', () => {
    expect(changeText({ field: 'name', from: 'Weekly', to: 'Daily' })).toBe('name: "Weekly" → "Daily"');
    expect(changeText({ field: 'cap', to: 5000 })).toBe('cap: set to 5000');
    expect(changeText({ field: 'scheduled', from: true })).toBe('scheduled: was true');
  });

  it('says only "changed" for a secret, and marks a value the API cut', () => {
    expect(changeText({ field: 'apiKey', changed: true })).toBe('apiKey: changed');
    expect(changeText({ field: 'name', from: 'a', to: 'b', truncated: true })).toContain('(cut short)');
  });

  it('cuts a long value so one entry never floods the page', () => {
    const text = valueText('x'.repeat(500));
    expect(text.length).toBeLessThan(130);
    expect(text.endsWith('…')).toBe(true);
  });

  it('lists context one line each, arrays joined', () => {
    expect(detailLines({ trigger: 'on-demand', detached: ['e1', 'e2'] })).toEqual([
      'trigger: on-demand',
      'detached: e1, e2',
    ]);
    expect(detailLines(undefined)).toEqual([]);
  });
});

const listExport = (repair?: ExportView['repair']): ExportView =>
  anExportView(repair === undefined ? {} : { repair });

describe('console operations: repair options on the export form', () => {
  it('keeps the repair options an edit loaded, so a save never turns them off unasked', () => {
    const loaded = listExport({ everyRun: true, removeForeign: true });
    expect(inputOf(formOf(loaded), loaded).repair).toEqual({ everyRun: true, removeForeign: true });
  });

  it('leaves them out in field mode, where the API refuses them', () => {
    const form = {
      ...emptyForm(),
      name: 'Fields',
      connectionId: 'c',
      segmentIds: ['a'],
      membership: 'field' as const,
      repair: { everyRun: true, removeForeign: false },
    };
    const input = inputOf(form, undefined);
    expect(input.repair).toBeUndefined();
    expect(ExportConfigSchema.safeParse(input).success).toBe(true);
    // What the form would have sent without that rule: refused, naming `repair`.
    const refused = ExportConfigSchema.safeParse({ ...input, repair: form.repair });
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.path).toEqual(['repair']);
  });

  it('keeps them in tag mode, where runs read their tags back', () => {
    const loaded = anExportView({
      membership: 'tag',
      connection: { id: 'conn-1', displayName: 'Ortto', type: 'ortto', region: 'global' },
      repair: { everyRun: true, removeForeign: true },
    });
    const input = inputOf(formOf(loaded), loaded);
    expect(input.repair).toEqual({ everyRun: true, removeForeign: true });
    expect(ExportConfigSchema.safeParse(input).success).toBe(true);
  });
});

describe('console operations: repair settings in words', () => {
  it('offers repair of lists and tags, never of membership fields', () => {
    expect(repairTargetOf('list')).toBe('list');
    expect(repairTargetOf('tag')).toBe('tag');
    expect(repairTargetOf('field')).toBeUndefined();
  });

  it('says when each mode repairs and what it removes, in that mode’s words', () => {
    expect(repairSettingText('list', undefined)).toBe('Only when asked (Repair lists)');
    expect(repairSettingText('list', { everyRun: true, removeForeign: true })).toBe(
      'On every run; removes members the product never sent',
    );
    expect(repairSettingText('tag', { everyRun: false, removeForeign: false })).toBe(
      'Only when asked (Repair tags); every run counts its tags and reads back those whose count is off',
    );
    expect(repairSettingText('tag', { everyRun: true, removeForeign: true })).toBe(
      'On every run; untags people the product never tagged',
    );
  });
});
