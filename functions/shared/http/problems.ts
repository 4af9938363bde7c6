import * as z from 'zod';
import { ForbiddenError } from '#lib/domain/access.ts';
import { ConflictError, NotFoundError, ValidationError } from '#lib/domain/errors.ts';
import type { Logger } from '#lib/ports/logger.ts';
import { KeyVerificationError } from '#lib/use-cases/check-api-key.ts';
import type { ApiResponse } from './http.ts';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The body of every error response (what {@link problem} builds), as the OpenAPI document names it. */
export const ProblemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number(),
  detail: z.string(),
  errors: z.array(z.object({ path: z.string(), reason: z.string() })).optional(),
});

/** RFC 9457 problem details: one format for every error the API returns. */
export const problem = (
  status: number,
  detail: string,
  extra: Record<string, unknown> = {},
): ApiResponse => ({
  status,
  headers: { 'content-type': 'application/problem+json' },
  body: { type: 'about:blank', title: TITLES[status] ?? 'Error', status, detail, ...extra },
});

/** Maps a thrown error to its problem response; anything unexpected is logged and hidden. */
export const problemFor = (error: unknown, logger: Logger): ApiResponse => {
  if (error instanceof ValidationError) {
    return problem(400, 'The request is not valid; see errors for each field.', { errors: error.issues });
  }
  if (error instanceof KeyVerificationError) {
    return error.retryable
      ? problem(503, error.message)
      : problem(400, error.message, {
          errors: [{ path: 'apiKey', reason: `rejected by ${error.destination}` }],
        });
  }
  if (error instanceof ForbiddenError) return problem(403, error.message);
  if (error instanceof NotFoundError) return problem(404, error.message);
  if (error instanceof ConflictError) return problem(409, error.message, error.details);
  logger.error('request failed unexpectedly', {
    error: error instanceof Error ? `${error.name}: ${error.message}` : 'unknown',
  });
  return problem(500, 'Something went wrong on our side; the request was not completed. Try again.');
};
