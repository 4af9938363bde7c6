import { maskEmail } from '#lib/domain/email.ts';
import { FatalRunError, PermanentError, TransientError } from '#lib/domain/errors.ts';
import type { ErrorBody } from './schemas.ts';

/** What a message may say about a request: its route template and a masked subject, never the path. */
export interface RequestContext {
  /** e.g. `GET /contact/{contact_id_or_email}`. */
  route: string;
  /** The contact or list the request was about, already safe to print. */
  subject?: string;
}

const MAX_SERVER_TEXT = 200;
/**
 * Server and error texts are read up to this length before any pattern sees them: a message shows
 * at most MAX_SERVER_TEXT, and the known phrases sit at the start of short messages.
 */
const MAX_EXAMINED_TEXT = 1000;
/** Longest `Retry-After` read: an HTTP date is 29 characters. */
const MAX_RETRY_AFTER_TEXT = 64;

// The look-behind lets a match start only where a run of address characters starts. Without it, a
// long run with no `@` was rescanned from each of its characters: quadratic in the message length.
const EMAIL_LIKE = /(?<![^\s@"'<>(),;:[\]])[^\s@"'<>(),;:[\]]+@[^\s@"'<>(),;:[\]]+/g;
/** Characters that end an address-like word (`@` does not: it is inside one). */
const WORD_BREAK = /[\s"'<>(),;:[\]]/;

/** The first `max` characters, less a trailing word cut in half, so no part of an address escapes. */
const examined = (text: string, max: number): string => {
  if (text.length <= max) return text;
  let end = max;
  if (!WORD_BREAK.test(text.charAt(end))) {
    while (end > 0 && !WORD_BREAK.test(text.charAt(end - 1))) end--;
  }
  return `${text.slice(0, end)}…`;
};

/** Masks email addresses and blanks every secret; for anything headed into a message or log. */
export const redact = (text: string, secrets: readonly string[]): string => {
  let out = text;
  // Whole secrets go first, before the cut could split one and hide it from this search.
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('[redacted]');
  return examined(out, MAX_EXAMINED_TEXT).replace(EMAIL_LIKE, (m) => maskEmail(m));
};

/** A contact id prints as is (not personal); an email is masked. */
export const subjectOf = (idOrEmail: string): string =>
  idOrEmail.includes('@') ? maskEmail(idOrEmail) : idOrEmail.slice(0, 100);

const describe = (ctx: RequestContext): string =>
  `Autopilot ${ctx.route}${ctx.subject === undefined ? '' : ` (${ctx.subject})`}`;

/** Machine-readable reasons for the messages the API is known to send (docs/autopilot-api.md#errors). */
export const reasonFromMessage = (raw: string | undefined): string | undefined => {
  if (raw === undefined) return undefined;
  const message = raw.slice(0, MAX_EXAMINED_TEXT);
  if (/contact (could )?not (be )?found/i.test(message)) return 'contact_not_found';
  if (/list (does not exist|not found|could not be found)/i.test(message)) return 'list_not_found';
  if (/invalid contact_id_or_email/i.test(message)) return 'invalid_contact_id_or_email';
  return undefined;
};

const isMissingKeyMessage = (raw: string | undefined): boolean => {
  if (raw === undefined) return false;
  const message = raw.slice(0, MAX_EXAMINED_TEXT);
  return (
    /autopilot\s*api\s*key|autopilot key/i.test(message) &&
    /\bno\b|missing|not provided|required/i.test(message)
  );
};

/** `Retry-After` as seconds or an HTTP date → milliseconds from `now`; undefined when absent or unreadable. */
export const parseRetryAfter = (value: string | undefined, now = Date.now()): number | undefined => {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v.length > MAX_RETRY_AFTER_TEXT) return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
};

export interface HttpFailure {
  status: number;
  retryAfter?: string | undefined;
  /** The parsed error body, when there was a JSON one. */
  body?: ErrorBody | undefined;
}

/** A non-2xx answer → the error class the sender acts on. `secrets` never reach the message. */
export const classifyHttpFailure = (
  ctx: RequestContext,
  failure: HttpFailure,
  secrets: readonly string[],
): TransientError | PermanentError | FatalRunError => {
  const { status, body } = failure;
  const serverMessage =
    body?.message === undefined ? undefined : redact(body.message, secrets).slice(0, MAX_SERVER_TEXT);
  const message = `${describe(ctx)} answered ${status}${serverMessage ? `: ${serverMessage}` : ''}`;
  if (status === 429) {
    const retryAfterMs = parseRetryAfter(failure.retryAfter);
    return new TransientError(message, {
      status,
      rateLimited: true,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  if (status >= 500 || status === 408) return new TransientError(message, { status });
  if (status === 401) return new FatalRunError(message, 'invalid_api_key');
  if (status === 400 && isMissingKeyMessage(body?.message))
    return new FatalRunError(message, 'missing_api_key');
  const reason = reasonFromMessage(body?.message) ?? serverMessage ?? `http_${status}`;
  return new PermanentError(message, { status, reason });
};

/** A 2xx whose body is not what the API sends: says what was wrong, never the body itself. */
export const invalidResponse = (ctx: RequestContext, status: number, problem: string): PermanentError =>
  new PermanentError(`${describe(ctx)} answered ${status} with an unexpected body: ${problem}`, {
    status,
    reason: 'invalid_response',
  });

/** Our own mistakes in building the request: retrying cannot help. */
const PERMANENT_CODES = new Set([
  'UND_ERR_INVALID_ARG',
  'UND_ERR_NOT_SUPPORTED',
  'UND_ERR_INVALID_RETURN_VALUE',
  'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH',
  'ERR_INVALID_URL',
]);

const codeOf = (err: unknown): string | undefined => {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    if (e.name === 'TimeoutError') return 'TIMEOUT';
  }
  return undefined;
};

/**
 * A request that got no usable HTTP answer (timeouts, ECONNRESET, ECONNREFUSED, socket closed, DNS,
 * HTTP parser errors) → transient; an invalid request built by us → permanent. Unknown failures count
 * as transient: the queue bounds retries, and Autopilot finishes timed-out writes anyway (docs/autopilot-api.md#errors).
 */
export const classifyNetworkError = (
  ctx: RequestContext,
  err: unknown,
  secrets: readonly string[],
  timedOut = false,
): TransientError | PermanentError => {
  const code = timedOut ? 'TIMEOUT' : (codeOf(err) ?? 'UNKNOWN');
  const detail = err instanceof Error ? redact(err.message, secrets).slice(0, MAX_SERVER_TEXT) : '';
  const message = timedOut
    ? `${describe(ctx)} timed out`
    : `${describe(ctx)} failed: ${code}${detail ? ` (${detail})` : ''}`;
  if (PERMANENT_CODES.has(code)) return new PermanentError(message, { reason: 'invalid_request' });
  return new TransientError(message, {});
};
