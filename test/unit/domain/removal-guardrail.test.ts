import { describe, expect, it } from 'vitest';
import { ValidationError } from '#lib/domain/errors.ts';
import { ExportConfigSchema } from '#lib/domain/export-config.ts';
import { exceedsGuardrail, heldTargets, RemovalGuardrailSchema } from '#lib/domain/removal-guardrail.ts';
import { parseOrThrow } from '#lib/domain/validation.ts';

const DEFAULTS = RemovalGuardrailSchema.parse({});

const config = (removalGuardrail?: unknown) => ({
  name: 'Newsletter',
  connectionId: 'conn-1',
  segmentIds: ['seg-a'],
  dataMatching: { email: 'email' },
  ...(removalGuardrail === undefined ? {} : { removalGuardrail }),
});

const issuesOf = (input: unknown): Array<{ path: string; reason: string }> => {
  try {
    parseOrThrow(ExportConfigSchema, input);
  } catch (error) {
    if (error instanceof ValidationError) return [...error.issues];
    throw error;
  }
  return [];
};

describe('removal guardrail threshold', () => {
  it('is on by default: more than 10% of a list and more than 100 contacts', () => {
    expect(DEFAULTS).toEqual({ enabled: true, maxFraction: 0.1, minContacts: 100 });
    expect(ExportConfigSchema.parse(config({})).removalGuardrail).toEqual(DEFAULTS);
  });

  it('needs both: a large share of a small list, or many contacts of a large list, is not enough', () => {
    expect(exceedsGuardrail(DEFAULTS, 1000, 1000)).toBe(true);
    expect(exceedsGuardrail(DEFAULTS, 1000, 101)).toBe(true);
    expect(exceedsGuardrail(DEFAULTS, 1000, 100)).toBe(false); // 10%, and not more than 100
    expect(exceedsGuardrail(DEFAULTS, 50, 50)).toBe(false); // all of it, but only 50
    expect(exceedsGuardrail(DEFAULTS, 100_000, 9_000)).toBe(false); // 9%
    expect(exceedsGuardrail({ ...DEFAULTS, enabled: false }, 1000, 1000)).toBe(false);
  });

  it('lists every target with removals once any one crosses, marking which crossed', () => {
    const targets = [
      { segmentId: 'a', target: 'A', members: 1000, removals: 500 },
      { segmentId: 'b', target: 'B', members: 1000, removals: 5 },
      { segmentId: 'c', target: 'C', members: 1000, removals: 0 },
    ];
    expect(heldTargets(DEFAULTS, targets)).toEqual([
      { ...targets[0], exceeds: true },
      { ...targets[1], exceeds: false },
    ]);
    expect(heldTargets(DEFAULTS, targets.slice(1))).toBeUndefined();
  });

  it('refuses out-of-range settings naming the field and the reason', () => {
    expect(issuesOf(config({ maxFraction: 1.5 }))).toEqual([
      { path: 'removalGuardrail.maxFraction', reason: expect.stringMatching(/between 0 and 1/) },
    ]);
    expect(issuesOf(config({ minContacts: 2.5 }))).toEqual([
      { path: 'removalGuardrail.minContacts', reason: expect.stringMatching(/whole number/) },
    ]);
    expect(issuesOf(config({ minContacts: -1 }))).toEqual([
      { path: 'removalGuardrail.minContacts', reason: expect.stringMatching(/negative/) },
    ]);
    expect(issuesOf(config({ enabled: false, limit: 3 }))[0]?.path).toBe('removalGuardrail.limit');
  });
});
