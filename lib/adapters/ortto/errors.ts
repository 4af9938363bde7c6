// Autopilot's redaction is the product's one way to keep keys and addresses out of messages; it is
// not specific to Autopilot and is shared rather than copied.
import { redact } from '#lib/adapters/autopilot/errors.ts';
import { INVALID_REQUEST_CODE } from '#lib/adapters/http/transport.ts';
import { FatalRunError, MAX_RETRY_AFTER_MS, PermanentError, TransientError } from '#lib/domain/errors.ts';
import type { ErrorBody } from './schemas.ts';

/** What a message may say about a request: the route, never a body, key or address. */
export interface RequestContext {
  /** e.g. `POST /v1/person/merge`. */
  route: string;
}

export { redact };

const MAX_SERVER_TEXT = 200;
const describe = (ctx: RequestContext): string => `Ortto ${ctx.route}`;

/** Ortto's own text for a refusal (`error` as a string, or the 429 envelope's `message`), redacted. */
export const serverMessageOf = (
  body: ErrorBody | undefined,
  secrets: readonly string[],
): string | undefined => {
  const raw = typeof body?.error === 'string' ? body.error : body?.error?.message;
  return raw === undefined || raw.trim() === '' ? undefined : redact(raw, secrets).slice(0, MAX_SERVER_TEXT);
};

const clampMs = (ms: number): number => Math.min(MAX_RETRY_AFTER_MS, Math.max(0, Math.round(ms)));
const RETRY_AFTER_SECONDS = /^\d{1,6}(\.\d{1,3})?$/;

/**
 * How long a 429 asks us to wait: the body's `try-in-seconds` (documented), else a `Retry-After` in
 * seconds (undocumented, honoured if present); capped at MAX_RETRY_AFTER_MS; undefined when neither.
 */
export const retryAfterMsOf = (
  body: ErrorBody | undefined,
  retryAfter: string | undefined,
): number | undefined => {
  const seconds = typeof body?.error === 'object' ? body.error['try-in-seconds'] : undefined;
  // A negative or endless wait is nonsense: read as absent, so the caller's own back-off applies.
  if (seconds !== undefined && Number.isFinite(seconds) && seconds >= 0) return clampMs(seconds * 1000);
  const header = retryAfter?.trim().slice(0, 16);
  if (header !== undefined && RETRY_AFTER_SECONDS.test(header)) return clampMs(Number(header) * 1000);
  return undefined;
};

const REASON_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'bad_request',
  404: 'not_found',
  413: 'payload_too_large',
};

export interface HttpFailure {
  status: number;
  body: ErrorBody | undefined;
  retryAfter: string | undefined;
}

/**
 * A non-2xx answer → the class the sender acts on: 429 transient with the wait Ortto asked for; 401
 * fatal (the key is refused); 5xx and 408 transient; any other 4xx permanent, with Ortto's message.
 */
export const classifyHttpFailure = (
  ctx: RequestContext,
  { status, body, retryAfter }: HttpFailure,
  secrets: readonly string[],
): TransientError | PermanentError | FatalRunError => {
  const serverMessage = serverMessageOf(body, secrets);
  const message = `${describe(ctx)} answered ${status}${serverMessage ? `: ${serverMessage}` : ''}`;
  if (status === 429) {
    const retryAfterMs = retryAfterMsOf(body, retryAfter);
    return new TransientError(message, {
      status,
      rateLimited: true,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  if (status >= 500 || status === 408) return new TransientError(message, { status });
  if (status === 401) return new FatalRunError(message, 'invalid_api_key');
  return new PermanentError(message, { status, reason: REASON_BY_STATUS[status] ?? `http_${status}` });
};

/** A 2xx whose body is not what Ortto sends: says what was wrong, never the body itself. */
export const invalidResponse = (ctx: RequestContext, status: number, problem: string): PermanentError =>
  new PermanentError(`${describe(ctx)} answered ${status} with an unexpected body: ${problem}`, {
    status,
    reason: 'invalid_response',
  });

/**
 * A 2xx cut short (not JSON): the request may have taken effect and its answer was lost on the way,
 * like a reset after the write. Every Ortto write the client makes is safe to repeat, so: retry.
 */
export const truncatedAnswer = (ctx: RequestContext, status: number): TransientError =>
  new TransientError(`${describe(ctx)} answered ${status} with a body that is not JSON (answer lost)`, {
    status,
  });

/** Our own mistakes in building the request: retrying cannot help. */
const PERMANENT_CODES = new Set([INVALID_REQUEST_CODE, 'ERR_INVALID_URL', 'ERR_INVALID_CHAR']);

const codeOf = (err: unknown): string | undefined => {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
};

/**
 * No usable answer (timeout, reset, refused, DNS, cut off mid-answer) → transient: the write may or
 * may not have happened, and repeating a merge is harmless. A request we built wrong → permanent.
 */
export const classifyNetworkError = (
  ctx: RequestContext,
  err: unknown,
  secrets: readonly string[],
  timedOut: boolean,
): TransientError | PermanentError => {
  const code = timedOut ? 'TIMEOUT' : (codeOf(err) ?? 'UNKNOWN');
  const detail = err instanceof Error ? redact(err.message, secrets).slice(0, MAX_SERVER_TEXT) : '';
  const message = timedOut
    ? `${describe(ctx)} timed out`
    : `${describe(ctx)} failed: ${code}${detail ? ` (${detail})` : ''}`;
  if (PERMANENT_CODES.has(code)) return new PermanentError(message, { reason: 'invalid_request' });
  return new TransientError(message, {});
};
