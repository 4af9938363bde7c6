import { describe, expect, it } from 'vitest';
import {
  classifyHttpFailure,
  classifyNetworkError,
  parseRetryAfter,
  redact,
} from '#lib/adapters/autopilot/errors.ts';
import { FatalRunError, PermanentError, TransientError } from '#lib/domain/errors.ts';

const KEY = '660f9d61d936487db0d78d546f423b43';
const ctx = { route: 'POST /contact', subject: 'a***@example.com' };
const body = (error: string, message: string) => ({ error, message });

describe('classifyHttpFailure', () => {
  it.each([
    [429, body('Too Many Requests', 'You have exceeded your request rate of 5 r/s.'), TransientError],
    [500, body('Internal Server Error', 'boom'), TransientError],
    [502, undefined, TransientError],
    [503, undefined, TransientError],
    [504, undefined, TransientError],
    [408, undefined, TransientError],
    [401, body('Unauthorized', 'Provided autopilotapikey not valid.'), FatalRunError],
    [400, body('Bad Request', 'No autopilotapikey header provided.'), FatalRunError],
    [400, body('Bad Request', 'Invalid contact_id_or_email value provided.'), PermanentError],
    [400, undefined, PermanentError],
    [404, body('Not Found', 'Contact could not be found.'), PermanentError],
    [404, body('Not Found', 'List does not exist.'), PermanentError],
    [409, body('Conflict', 'A list with this name already exists.'), PermanentError],
    [413, undefined, PermanentError],
  ] as const)('%i %j → %o', (status, errorBody, expected) => {
    expect(classifyHttpFailure(ctx, { status, body: errorBody }, [KEY])).toBeInstanceOf(expected);
  });

  it('a 429 is rate limited, with retryAfterMs only when Retry-After is present', () => {
    const bare = classifyHttpFailure(ctx, { status: 429 }, []) as TransientError;
    expect(bare.details).toEqual({ status: 429, rateLimited: true });
    const hinted = classifyHttpFailure(ctx, { status: 429, retryAfter: '3' }, []) as TransientError;
    expect(hinted.details).toEqual({ status: 429, rateLimited: true, retryAfterMs: 3000 });
  });

  it('names the fatal reason', () => {
    const invalid = classifyHttpFailure(ctx, { status: 401 }, []) as FatalRunError;
    expect(invalid.reason).toBe('invalid_api_key');
    const missing = classifyHttpFailure(
      ctx,
      { status: 400, body: { code: 400, message: 'No autopilot key was provided' } },
      [],
    ) as FatalRunError;
    expect(missing.reason).toBe('missing_api_key');
  });

  it('permanent errors carry the status, a reason and the server message', () => {
    const notFound = classifyHttpFailure(
      ctx,
      { status: 404, body: body('Not Found', 'Contact could not be found.') },
      [],
    ) as PermanentError;
    expect(notFound.details).toEqual({ status: 404, reason: 'contact_not_found' });
    expect(notFound.message).toContain('Contact could not be found.');
    const list = classifyHttpFailure(
      ctx,
      { status: 404, body: { code: 'Not Found', message: 'List does not exist.' } },
      [],
    );
    expect((list as PermanentError).details.reason).toBe('list_not_found');
    const other = classifyHttpFailure(
      ctx,
      { status: 400, body: body('Bad Request', 'Email is malformed') },
      [],
    );
    expect((other as PermanentError).details).toEqual({ status: 400, reason: 'Email is malformed' });
    const bare = classifyHttpFailure(ctx, { status: 422 }, []);
    expect((bare as PermanentError).details).toEqual({ status: 422, reason: 'http_422' });
  });

  it('never repeats the key and masks emails the server echoes', () => {
    const err = classifyHttpFailure(
      ctx,
      { status: 400, body: body('Bad Request', `key ${KEY} cannot write ann.lee@example.com`) },
      [KEY],
    );
    const text = `${err.message} ${JSON.stringify(err)}`;
    expect(text).not.toContain(KEY);
    expect(text).not.toContain('ann.lee@example.com');
    expect(text).toContain('a***@example.com');
  });
});

describe('classifyNetworkError', () => {
  const withCode = (code: string, message = code): Error => Object.assign(new Error(message), { code });

  it.each([
    'ECONNRESET',
    'ECONNREFUSED',
    'EPIPE',
    'ETIMEDOUT',
    'EAI_AGAIN',
    'UND_ERR_SOCKET',
    'UND_ERR_CONNECT_TIMEOUT',
    'UND_ERR_HEADERS_TIMEOUT',
    'UND_ERR_BODY_TIMEOUT',
    'HPE_INVALID_CONSTANT',
  ])('%s is transient', (code) => {
    expect(classifyNetworkError(ctx, withCode(code), [])).toBeInstanceOf(TransientError);
  });

  it('finds the code on the cause', () => {
    const err = new TypeError('fetch failed', { cause: withCode('ECONNREFUSED') });
    expect(classifyNetworkError(ctx, err, []).message).toContain('ECONNREFUSED');
  });

  it('our own deadline reads as a timeout', () => {
    const err = classifyNetworkError(ctx, new Error('This operation was aborted'), [], true);
    expect(err).toBeInstanceOf(TransientError);
    expect(err.message).toMatch(/timed out/);
  });

  it('an invalid request built by us is permanent', () => {
    expect(classifyNetworkError(ctx, withCode('UND_ERR_INVALID_ARG'), [])).toBeInstanceOf(PermanentError);
  });

  it('strips the key from the underlying message', () => {
    const err = classifyNetworkError(ctx, withCode('UND_ERR_SOCKET', `bad header ${KEY}`), [KEY]);
    expect(err.message).not.toContain(KEY);
  });
});

describe('helpers', () => {
  it('parseRetryAfter reads seconds and HTTP dates', () => {
    const now = Date.parse('2024-01-01T00:00:00Z');
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter('Mon, 01 Jan 2024 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });

  it('redact masks emails and removes secrets', () => {
    expect(redact(`x ${KEY} y bob@example.org`, [KEY])).toBe('x [redacted] y b***@example.org');
  });
});
