/**
 * Failure classes, decided once near the edge that observed the failure.
 * - TransientError: worth retrying (rate limit, 5xx, timeout, connection reset).
 * - PermanentError: retrying the same request cannot help; record it and move on.
 * - FatalRunError: the whole run cannot continue (e.g. the API key was rejected).
 */
/**
 * The longest Retry-After the exporter honours: a larger (or nonsense) value would park every sender
 * of a connection for hours. The client clamps what it reads; the retry policy clamps what it waits.
 */
export const MAX_RETRY_AFTER_MS = 60_000;

export class TransientError extends Error {
  override readonly name: string = 'TransientError';
  constructor(
    message: string,
    readonly details: { status?: number; rateLimited?: boolean; retryAfterMs?: number } = {},
  ) {
    super(message);
  }
}

export class PermanentError extends Error {
  override readonly name: string = 'PermanentError';
  constructor(
    message: string,
    readonly details: { status?: number; reason?: string } = {},
  ) {
    super(message);
  }
}

export class FatalRunError extends Error {
  override readonly name: string = 'FatalRunError';
  constructor(
    message: string,
    readonly reason: 'invalid_api_key' | 'missing_api_key' | 'connection_removed' | 'configuration',
  ) {
    super(message);
  }
}

/** A value that failed validation; `path` names the field, `reason` says why. */
export class ValidationError extends Error {
  override readonly name: string = 'ValidationError';
  constructor(readonly issues: ReadonlyArray<{ path: string; reason: string }>) {
    super(issues.map((i) => `${i.path || '(root)'}: ${i.reason}`).join('; '));
  }
}

/** The distinct contacts of an export exceed the connection's cap. */
export class CapExceededError extends Error {
  override readonly name: string = 'CapExceededError';
  constructor(
    message: string,
    readonly distinct: number,
    readonly cap: number,
  ) {
    super(message);
  }
}

/** The thing asked for does not exist (or the caller may not know it does). */
export class NotFoundError extends Error {
  override readonly name: string = 'NotFoundError';
}

/** The request conflicts with the current state (stale version, resource in use, run already ended). */
export class ConflictError extends Error {
  override readonly name: string = 'ConflictError';
  constructor(
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}
