/** An API error as the console shows it: words, and the fields they concern (RFC 9457 problem+json). */
export interface Problem {
  status: number;
  detail: string;
  errors: { path: string; reason: string }[];
  /** Extra members some problems carry (e.g. the exports that still use a connection). */
  extra: Record<string, unknown>;
}

const MAX_TEXT = 1_000;

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value.slice(0, MAX_TEXT) : undefined;

/** What to say when the API answered without a usable detail: never a bare status code. */
const FALLBACK: Record<number, string> = {
  401: 'You are not signed in, or your sign-in has ended. Sign in again.',
  403: 'You are not allowed to do this.',
  404: 'This no longer exists; it may have been removed.',
  409: 'Someone else changed this since you opened it.',
  413: 'What you sent is too large.',
  503: 'The service is busy or could not reach Autopilot or Ortto; try again shortly.',
};

/** Turns any error body (problem+json or not) into a {@link Problem}. */
export const toProblem = (status: number, body: unknown): Problem => {
  const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const errors = Array.isArray(record.errors)
    ? record.errors.flatMap((e: unknown) => {
        const item = typeof e === 'object' && e !== null ? (e as Record<string, unknown>) : {};
        const path = text(item.path);
        const reason = text(item.reason);
        return path !== undefined && reason !== undefined ? [{ path, reason }] : [];
      })
    : [];
  const { type: _t, title: _ti, status: _s, detail: _d, errors: _e, ...extra } = record;
  const detail =
    text(record.detail) ??
    FALLBACK[status] ??
    (status >= 500 ? 'Something went wrong on the server; try again.' : 'The request was refused.');
  return { status, detail, errors, extra };
};

/** A problem for a request that never got an answer (offline, server stopped). */
export const networkProblem = (): Problem => ({
  status: 0,
  detail: 'The console could not reach the API; check that it is running and try again.',
  errors: [],
  extra: {},
});

/** The reason the API gave for `field` or anything inside it (`consent` covers `consent.accepted`). */
export const fieldError = (problem: Problem | undefined, field: string): string | undefined => {
  const hit = problem?.errors.find(
    (e) => e.path === field || e.path.startsWith(`${field}.`) || e.path.startsWith(`${field}[`),
  );
  return hit === undefined ? undefined : sentence(hit.reason);
};

/**
 * What to say by an API key field after a save that checks the key with its destination (Autopilot
 * or Ortto, named by `destination`): the API's reason for a rejected key, or, when the check answered
 * 503 (the destination down or too slow), that it could not be reached, so the admin does not take a
 * good key for a bad one.
 */
export const keyFieldError = (
  problem: Problem | undefined,
  field: string,
  destination = 'Autopilot',
): string | undefined =>
  fieldError(problem, field) ??
  (problem?.status === 503 ? `${destination} could not be reached; try again.` : undefined);

/** Errors that no field on the form shows: listed with their path so none goes unseen. */
export const otherErrors = (problem: Problem | undefined, fields: readonly string[]): string[] =>
  (problem?.errors ?? [])
    .filter(
      (e) => !fields.some((f) => e.path === f || e.path.startsWith(`${f}.`) || e.path.startsWith(`${f}[`)),
    )
    .map((e) => `${e.path}: ${e.reason}`);

const sentence = (reason: string): string => `${reason.charAt(0).toUpperCase()}${reason.slice(1)}`;

/** A version conflict: the record changed since it was read; the console offers Reload, never overwrites. */
export const isStale = (problem: Problem | undefined): boolean =>
  problem !== undefined &&
  (problem.status === 409 || problem.status === 412) &&
  'currentVersion' in problem.extra;
