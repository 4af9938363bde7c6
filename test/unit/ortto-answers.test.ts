import { describe, expect, it } from 'vitest';
import { mapMergeAnswer, mapRefusedBatch, outcomeOf, RESEND } from '#lib/adapters/ortto/answers.ts';
import { BadRequestGuard } from '#lib/adapters/ortto/bad-request-guard.ts';
import { classifyHttpFailure, retryAfterMsOf } from '#lib/adapters/ortto/errors.ts';
import type { ErrorBody } from '#lib/adapters/ortto/schemas.ts';
import { FatalRunError, MAX_RETRY_AFTER_MS, PermanentError, TransientError } from '#lib/domain/errors.ts';

const KEY = 'k-0123456789abcdef';
const ctx = { route: 'POST /v1/person/merge' };

describe('merge answer entries', () => {
  it('maps created, merged and ignored as written; an error or a status it does not know as not', () => {
    expect(outcomeOf({ person_id: 'p1', status: 'created' }, [])).toEqual({
      ok: true,
      status: 'created',
      personId: 'p1',
    });
    expect(outcomeOf({ status: 'merged' }, [])).toEqual({ ok: true, status: 'merged' });
    expect(outcomeOf({ status: 'ignored' }, [])).toEqual({ ok: true, status: 'ignored' });
    expect(outcomeOf({ status: 'suppressed', error: 'Email is suppressed' }, [])).toEqual({
      ok: false,
      status: 'suppressed',
      reason: 'Email is suppressed',
    });
    // An error beside a success status is still an error.
    expect(outcomeOf({ person_id: 'p1', status: 'merged', error: 'partly failed' }, [])).toMatchObject({
      ok: false,
    });
    expect(outcomeOf({ status: 'queued' }, [])).toEqual({
      ok: false,
      status: 'queued',
      reason: 'unconfirmed status queued',
    });
    expect(outcomeOf({}, [])).toEqual({ ok: false, status: 'unknown', reason: 'unconfirmed status (none)' });
  });

  it('never passes on an address or a key Ortto echoed in a reason', () => {
    const outcome = outcomeOf({ status: 'invalid', error: `jane.doe@example.com is taken (key ${KEY})` }, [
      KEY,
    ]);
    expect(outcome.ok).toBe(false);
    const reason = outcome.ok ? '' : outcome.reason;
    expect(reason).not.toContain('jane.doe@example.com');
    expect(reason).not.toContain(KEY);
    expect(reason).toContain('[redacted]');
  });

  it('refuses an answer whose count differs from the people sent, in either direction', () => {
    const entry = { person_id: 'p', status: 'created' };
    for (const entries of [[entry], [entry, entry, entry]]) {
      const err = (() => {
        try {
          mapMergeAnswer(ctx, 200, entries, 2, []);
        } catch (e) {
          return e as PermanentError;
        }
      })();
      expect(err).toBeInstanceOf(PermanentError);
      expect(err?.details).toEqual({ status: 200, reason: 'answer_count_mismatch' });
      expect(err?.message).toContain(`answered ${entries.length} entries for 2 people sent`);
    }
    expect(
      mapMergeAnswer(ctx, 200, [entry, { status: 'invalid', error: 'x' }], 2, []).map((o) => o.ok),
    ).toEqual([true, false]);
  });
});

describe('a refused batch (400 with details)', () => {
  it('one detail per person: the invalid fail, the valid are sent again', () => {
    const body = {
      error: 'Invalid contacts provided (bad)',
      details: [
        { status: 'valid', error: '' },
        { status: 'invalid', error: 'bad' },
      ],
    };
    expect(mapRefusedBatch(body, 2, [])).toEqual([RESEND, { ok: false, status: 'invalid', reason: 'bad' }]);
  });

  it('details that cannot be matched fail every person with Ortto’s message; no details is not a refused batch', () => {
    const body = {
      error: 'No valid contacts provided (Email is suppressed)',
      details: [{ status: 'suppressed' }],
    };
    expect(mapRefusedBatch(body, 3, [])).toEqual(
      Array(3).fill({
        ok: false,
        status: 'invalid',
        reason: 'No valid contacts provided (Email is suppressed)',
      }),
    );
    expect(mapRefusedBatch({ error: 'people: at most 100 people per request' }, 3, [])).toBeUndefined();
    expect(mapRefusedBatch(undefined, 3, [])).toBeUndefined();
  });
});

describe('classifying failures', () => {
  it('reads the wait from try-in-seconds, else from a Retry-After in seconds, capped, ignoring nonsense', () => {
    const limited = (n: number) => ({ error: { code: 'rate-limit', 'try-in-seconds': n } });
    expect(retryAfterMsOf(limited(7), undefined)).toBe(7_000);
    expect(retryAfterMsOf(limited(0.5), '9')).toBe(500);
    expect(retryAfterMsOf(limited(3_600), undefined)).toBe(MAX_RETRY_AFTER_MS);
    expect(retryAfterMsOf(limited(-1), undefined)).toBeUndefined();
    expect(retryAfterMsOf(undefined, '4')).toBe(4_000);
    expect(retryAfterMsOf(undefined, 'soon')).toBeUndefined();
    expect(retryAfterMsOf(undefined, `${'9'.repeat(5_000)}`)).toBeUndefined();
  });

  it('429 transient with its wait, 401 fatal, 5xx and 408 transient, other 4xx permanent with Ortto’s message', () => {
    const fail = (status: number, body?: ErrorBody) =>
      classifyHttpFailure(ctx, { status, body, retryAfter: undefined }, [KEY]);
    const throttled = fail(429, {
      error: { code: 'rate-limit', message: 'rate limit', 'try-in-seconds': 2 },
    });
    expect(throttled).toBeInstanceOf(TransientError);
    expect((throttled as TransientError).details).toEqual({
      status: 429,
      rateLimited: true,
      retryAfterMs: 2_000,
    });
    expect(throttled.message).toBe('Ortto POST /v1/person/merge answered 429: rate limit');
    const refused = fail(401, { code: 401, error: `Invalid API key ${KEY}` });
    expect(refused).toBeInstanceOf(FatalRunError);
    expect((refused as FatalRunError).reason).toBe('invalid_api_key');
    expect(refused.message).not.toContain(KEY);
    expect(fail(503)).toBeInstanceOf(TransientError);
    expect(fail(408)).toBeInstanceOf(TransientError);
    const bad = fail(400, { code: 400, error: 'merge_by: str::person_id must stand alone' });
    expect(bad).toBeInstanceOf(PermanentError);
    expect((bad as PermanentError).details).toEqual({ status: 400, reason: 'bad_request' });
    expect(bad.message).toContain('merge_by: str::person_id must stand alone');
    expect((fail(422) as PermanentError).details.reason).toBe('http_422');
  });
});

describe('BadRequestGuard', () => {
  it('counts 4xx answers only: throttling, server errors and lost answers neither count nor reset', () => {
    const guard = new BadRequestGuard({ consecutive: 2, clock: () => 0 });
    guard.record(400);
    for (const status of [429, 500, 503, 0]) guard.record(status);
    guard.check();
    guard.record(404);
    expect(() => guard.check()).toThrow(FatalRunError);
  });

  it('refuses limits that would let Ortto’s ban come first', () => {
    expect(() => new BadRequestGuard({ inWindow: 15 })).toThrow(RangeError);
    expect(() => new BadRequestGuard({ consecutive: 11 })).toThrow(RangeError);
    expect(() => new BadRequestGuard({ consecutive: 0 })).toThrow(RangeError);
    expect(new BadRequestGuard({ consecutive: 14, inWindow: 14 }).consecutiveLimit).toBe(14);
  });
});
