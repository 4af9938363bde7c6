import type * as z from 'zod';
import { PermanentError } from '#lib/domain/errors.ts';
import {
  classifyHttpFailure,
  invalidResponse,
  type RequestContext,
  redact,
  truncatedAnswer,
} from './errors.ts';
import { type ErrorBody, ErrorBodySchema, type MergeEntry } from './schemas.ts';

/** What came back for one request: the status, the body as text and the raw Retry-After header. */
export interface Exchange {
  status: number;
  text: string;
  retryAfter: string | undefined;
}

/** One person's merge result, in the position the person was given. */
export type MergeOutcome =
  | { ok: true; status: 'created' | 'merged' | 'ignored'; personId?: string }
  | { ok: false; status: string; reason: string };

/** A person of a refused batch that Ortto found valid: nothing was written, send it again. */
export const RESEND = 'resend' as const;

const MAX_REASON = 200;
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

const describeIssues = (error: z.ZodError): string =>
  error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');

export const errorBodyOf = (res: Exchange): ErrorBody | undefined => {
  const parsed = ErrorBodySchema.safeParse(parseJson(res.text));
  return parsed.success ? parsed.data : undefined;
};

export const failureOf = (ctx: RequestContext, res: Exchange, secrets: readonly string[]): Error =>
  classifyHttpFailure(
    ctx,
    { status: res.status, body: errorBodyOf(res), retryAfter: res.retryAfter },
    secrets,
  );

/** A 2xx parsed with `schema`; a failure thrown as its class; a 2xx cut short is a lost answer. */
export const expectAnswer = <T>(
  ctx: RequestContext,
  res: Exchange,
  schema: z.ZodType<T>,
  secrets: readonly string[],
): T => {
  if (!isSuccess(res.status)) throw failureOf(ctx, res, secrets);
  const json = parseJson(res.text);
  if (json === NOT_JSON) throw truncatedAnswer(ctx, res.status);
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw invalidResponse(ctx, res.status, describeIssues(parsed.error));
  return parsed.data;
};

const FAILED_STATUSES = new Set(['invalid', 'suppressed', 'error', 'failed']);
const reasonOf = (entry: MergeEntry, secrets: readonly string[]): string => {
  const text = entry.error?.trim() ? redact(entry.error, secrets).slice(0, MAX_REASON) : undefined;
  return text ?? entry.status ?? 'refused';
};

/**
 * One answer entry → an outcome. An entry that reports neither success nor an error (a status we
 * do not know) is not counted as written: the exporter tries that person again, which is harmless.
 */
export const outcomeOf = (entry: MergeEntry, secrets: readonly string[]): MergeOutcome => {
  const status = entry.status ?? '';
  const failed = FAILED_STATUSES.has(status) || (entry.error !== undefined && entry.error.trim() !== '');
  if (!failed && (status === 'created' || status === 'merged'))
    return entry.person_id === undefined
      ? { ok: true, status }
      : { ok: true, status, personId: entry.person_id };
  if (!failed && status === 'ignored') return { ok: true, status };
  if (!failed)
    return {
      ok: false,
      status: status || 'unknown',
      reason: `unconfirmed status ${status.slice(0, 40) || '(none)'}`,
    };
  return { ok: false, status: status || 'invalid', reason: reasonOf(entry, secrets) };
};

/** A 2xx merge answer with more or fewer entries than people sent: nothing in it can be matched. */
export class AnswerCountMismatchError extends PermanentError {
  override readonly name: string = 'AnswerCountMismatchError';
  constructor(
    message: string,
    status: number,
    readonly answered: number,
    readonly sent: number,
  ) {
    super(message, { status, reason: 'answer_count_mismatch' });
  }
}

/**
 * A 2xx merge answer → one outcome per person sent, by position: the entries carry nothing else to
 * match them by, so a count that differs from what was sent cannot be mapped and is refused whole.
 */
export const mapMergeAnswer = (
  ctx: RequestContext,
  status: number,
  entries: readonly MergeEntry[],
  sent: number,
  secrets: readonly string[],
): MergeOutcome[] => {
  if (entries.length !== sent) {
    throw new AnswerCountMismatchError(
      `Ortto ${ctx.route} answered ${entries.length} entries for ${sent} people sent: outcomes cannot be ` +
        'matched by position (some people were written, which ones is unknown)',
      status,
      entries.length,
      sent,
    );
  }
  return entries.map((e) => outcomeOf(e, secrets));
};

/** Ortto's word for a person it found valid inside a refused batch. */
const VALID_STATUSES = new Set(['valid', 'ok']);

/**
 * A 400 that lists `details[]`: nothing was written. With one detail per person sent, each invalid
 * person fails with its reason and each valid one is marked RESEND (a batch refused for its invalid
 * people); otherwise every person fails with Ortto's message. Undefined for a 400 without details.
 */
export const mapRefusedBatch = (
  body: ErrorBody | undefined,
  sent: number,
  secrets: readonly string[],
): Array<MergeOutcome | typeof RESEND> | undefined => {
  const details = body?.details;
  if (details === undefined || details.length === 0) return undefined;
  if (details.length === sent) {
    return details.map((d) => {
      const clean = d.error === undefined || d.error.trim() === '';
      if (clean && VALID_STATUSES.has(d.status ?? '')) return RESEND;
      return { ok: false, status: d.status ?? 'invalid', reason: reasonOf(d, secrets) };
    });
  }
  const message = typeof body?.error === 'string' ? body.error : 'No valid contacts provided';
  const reason = redact(message, secrets).slice(0, MAX_REASON);
  return Array.from({ length: sent }, (): MergeOutcome => ({ ok: false, status: 'invalid', reason }));
};
