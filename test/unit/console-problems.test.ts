import { describe, expect, it } from 'vitest';
import {
  fieldError,
  isStale,
  keyFieldError,
  networkProblem,
  otherErrors,
  toProblem,
} from '../../console/api/problems.ts';

describe('console problems: API errors in words, by field', () => {
  const rejected = toProblem(400, {
    type: 'about:blank',
    title: 'Bad Request',
    status: 400,
    detail: 'Autopilot rejected this API key; check it and try again.',
    errors: [{ path: 'apiKey', reason: 'rejected by Autopilot' }],
  });

  it('keeps the detail and puts each reason on its field, sentence-cased', () => {
    expect(rejected.detail).toBe('Autopilot rejected this API key; check it and try again.');
    expect(fieldError(rejected, 'apiKey')).toBe('Rejected by Autopilot');
    expect(fieldError(rejected, 'displayName')).toBeUndefined();
  });

  it('gives a nested path to its parent field, and lists errors no field shows with their path', () => {
    const p = toProblem(400, {
      detail: 'The request is not valid; see errors for each field.',
      errors: [
        { path: 'consent.accepted', reason: 'must be true' },
        { path: 'exportUsers[3].id', reason: 'is a duplicate' },
        { path: 'colour', reason: 'is not a known field' },
      ],
    });
    expect(fieldError(p, 'consent')).toBe('Must be true');
    expect(fieldError(p, 'exportUsers')).toBe('Is a duplicate');
    expect(otherErrors(p, ['consent', 'exportUsers'])).toEqual(['colour: is not a known field']);
  });

  it('never shows a bare status: a body without detail gets words for its status', () => {
    expect(toProblem(403, undefined).detail).toBe('You are not allowed to do this.');
    expect(toProblem(502, 'Bad Gateway').detail).toMatch(/went wrong on the server/);
    expect(toProblem(418, {}).detail).toBe('The request was refused.');
  });

  it('ignores malformed errors entries and bounds long text', () => {
    const p = toProblem(400, {
      detail: 'x'.repeat(5_000),
      errors: [{ path: 1 }, null, { path: 'a', reason: 'b' }],
    });
    expect(p.detail).toHaveLength(1_000);
    expect(p.errors).toEqual([{ path: 'a', reason: 'b' }]);
  });

  it('treats a 409 that reports the current version as a stale edit, and other conflicts not', () => {
    expect(isStale(toProblem(409, { detail: 'changed', currentVersion: 3 }))).toBe(true);
    expect(isStale(toProblem(409, { detail: 'in use', exports: [] }))).toBe(false);
    expect(isStale(toProblem(400, { detail: 'bad', currentVersion: 3 }))).toBe(false);
  });
});

describe('console problems: the key field during a key check', () => {
  it('says by the key field that Autopilot could not be reached when the key check answered 503', () => {
    const down = toProblem(503, {
      status: 503,
      detail: 'Autopilot could not be reached to check the key; try again shortly.',
    });
    expect(keyFieldError(down, 'apiKey')).toBe('Autopilot could not be reached; try again.');
    // Even without a detail from the API (a proxy's bare 503).
    expect(keyFieldError(toProblem(503, 'Service Unavailable'), 'apiKey')).toBe(
      'Autopilot could not be reached; try again.',
    );
  });

  it('keeps a rejected key in the API’s words, and says nothing by the key for other failures', () => {
    const rejected = toProblem(400, {
      detail: 'Autopilot rejected this API key; check it and try again.',
      errors: [{ path: 'apiKey', reason: 'rejected by Autopilot' }],
    });
    expect(keyFieldError(rejected, 'apiKey')).toBe('Rejected by Autopilot');
    expect(keyFieldError(toProblem(400, { errors: [{ path: 'cap', reason: 'too big' }] }), 'apiKey')).toBe(
      undefined,
    );
    // The console not reaching the API is not Autopilot being down.
    expect(keyFieldError(networkProblem(), 'apiKey')).toBeUndefined();
    expect(keyFieldError(toProblem(500, {}), 'apiKey')).toBeUndefined();
    expect(keyFieldError(undefined, 'apiKey')).toBeUndefined();
  });
});
