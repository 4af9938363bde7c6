import * as z from 'zod';
import { parseOrThrow } from '#lib/domain/validation.ts';
import type { ApiResponse } from './http.ts';
import { ProblemSchema } from './problems.ts';
import type { RouteContext } from './router.ts';

export const json = (status: number, body: unknown): ApiResponse => ({
  status,
  headers: { 'content-type': 'application/json' },
  body,
});

/** The route's query parameters, parsed; errors name `query.<param>`. */
export const query = <S extends z.ZodType>(schema: S, ctx: Pick<RouteContext, 'query'>): z.output<S> =>
  parseOrThrow(schema, ctx.query, 'query');

/** A path parameter (the router has matched and checked it). */
export const param = (ctx: Pick<RouteContext, 'params'>, name: string): string => ctx.params[name] ?? '';

/** `true`/`false` in a query string. */
export const flag = z.enum(['true', 'false']).transform((v) => v === 'true');

const PROBLEM_TEXT: Record<number, string> = {
  400: 'Invalid request: `errors` names each field and why',
  401:
    'No valid identity token. The local API answers with problem details; in AWS, API Gateway’s JWT ' +
    'authorizer answers itself, with `{"message":"Unauthorized"}`',
  403: 'The caller’s role does not allow this',
  404: 'No such resource',
  409: 'Conflicts with the current state (stale version, in use, already running or ended)',
  413: 'Request body too large',
  415: 'Request body is not JSON',
  503: 'Autopilot did not answer in time or could not be reached; try again',
};

export const problems = (...statuses: number[]) =>
  statuses.map((status) => ({
    status,
    description: PROBLEM_TEXT[status] ?? 'Problem',
    schema: ProblemSchema,
  }));
