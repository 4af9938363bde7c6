import { describe, expect, it } from 'vitest';
import { ExportConfigSchema } from '#lib/domain/export-config.ts';
import { toIssues } from '#lib/domain/validation.ts';
import { emptyForm, inputOf } from '../../console/components/export-model.ts';

const newExport = { ...emptyForm(), name: 'New', connectionId: 'c', segmentIds: ['a'] };

describe('console export form: removal guardrail', () => {
  it('a new export sends the defaults: on, 10%, 100 contacts', () => {
    expect(inputOf(newExport, undefined).removalGuardrail).toEqual({
      enabled: true,
      maxFraction: 0.1,
      minContacts: 100,
    });
  });

  it('sends a percentage as the fraction the API takes, and "off" as enabled false', () => {
    const input = inputOf(
      { ...newExport, guardrail: { enabled: false, percent: '25', minContacts: '500' } },
      undefined,
    );
    expect(input.removalGuardrail).toEqual({ enabled: false, maxFraction: 0.25, minContacts: 500 });
    expect(ExportConfigSchema.safeParse(input).success).toBe(true);
  });

  it('a blank share reaches the API as a bad number, whose answer names the field', () => {
    const input = inputOf(
      { ...newExport, guardrail: { enabled: true, percent: ' ', minContacts: '100' } },
      undefined,
    );
    const parsed = ExportConfigSchema.safeParse(JSON.parse(JSON.stringify(input)));
    expect(parsed.success).toBe(false);
    if (!parsed.success)
      expect(toIssues(parsed.error).map((i) => i.path)).toEqual(['removalGuardrail.maxFraction']);
  });
});
