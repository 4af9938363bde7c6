import type * as z from 'zod';
import { MAX_RETRY_AFTER_MS, PermanentError, TransientError } from '#lib/domain/errors.ts';
import { classifyHttpFailure, invalidResponse, type RequestContext, reasonFromMessage } from './errors.ts';
import { type ErrorBody, ErrorBodySchema } from './schemas.ts';

/** What came back for one request: the status, the body as text and the raw Retry-After header. */
export interface Exchange {
  status: number;
  text: string;
  retryAfter: string | undefined;
}

const isSuccess = (status: number): boolean => status >= 200 && status < 300;

const NOT_JSON = Symbol('not-json');
const parseJson = (text: string): unknown => {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return NOT_JSON;
  }
};

const DELAY_SECONDS = /^\d+(\.\d+)?$/;
/** IMF-fixdate, RFC 850 and asctime dates (RFC 9110 §5.6.7) all start with the day's name. */
const HTTP_DATE = /^(mon|tue|wed|thu|fri|sat|sun)[a-z]*,? /i;

/**
 * Only the two forms of Retry-After (RFC 9110 §10.2.3) reach the parser, bounded first: anything
 * else ("-1", "soon") counts as absent, so the caller's own back-off applies rather than "now".
 */
const readableRetryAfter = (value: string | undefined): string | undefined => {
  const v = value?.trim();
  if (v === undefined || v.length > 64) return undefined;
  return DELAY_SECONDS.test(v) || HTTP_DATE.test(v) ? v : undefined;
};

const clampRetryAfter = (err: TransientError): TransientError => {
  const ms = err.details.retryAfterMs;
  if (ms === undefined || (Number.isFinite(ms) && ms >= 0 && ms <= MAX_RETRY_AFTER_MS)) return err;
  const clamped = Number.isFinite(ms) ? Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms)) : MAX_RETRY_AFTER_MS;
  return new TransientError(err.message, { ...err.details, retryAfterMs: clamped });
};

const describeIssues = (error: z.ZodError): string =>
  error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');

/** Autopilot's `{ error, message }` body, when the answer carries one. */
export const errorBodyOf = (res: Exchange): ErrorBody | undefined => {
  const parsed = ErrorBodySchema.safeParse(parseJson(res.text));
  return parsed.success ? parsed.data : undefined;
};

/**
 * The classified error for a failed answer. `defaultReason` names a permanent failure whose
 * message Autopilot left unrecognisable (e.g. a bare 404 on a list route means `list_not_found`).
 */
export const failureOf = (
  ctx: RequestContext,
  res: Exchange,
  secrets: readonly string[],
  defaultReason?: string,
): Error => {
  const body = errorBodyOf(res);
  const classified = classifyHttpFailure(
    ctx,
    { status: res.status, retryAfter: readableRetryAfter(res.retryAfter), body },
    secrets,
  );
  const err = classified instanceof TransientError ? clampRetryAfter(classified) : classified;
  if (
    defaultReason !== undefined &&
    err instanceof PermanentError &&
    reasonFromMessage(body?.message) === undefined
  ) {
    return new PermanentError(err.message, { ...err.details, reason: defaultReason });
  }
  return err;
};

/** A 2xx parsed with `schema`; anything else thrown as its classified error. */
export const expectAnswer = <T>(
  ctx: RequestContext,
  res: Exchange,
  schema: z.ZodType<T>,
  secrets: readonly string[],
): T => {
  if (!isSuccess(res.status)) throw failureOf(ctx, res, secrets);
  const json = parseJson(res.text);
  if (json === NOT_JSON) throw invalidResponse(ctx, res.status, 'body is not JSON');
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw invalidResponse(ctx, res.status, describeIssues(parsed.error));
  return parsed.data;
};
