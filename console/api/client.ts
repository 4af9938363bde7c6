import createClient from 'openapi-fetch';
import { networkProblem, type Problem, toProblem } from './problems.ts';
import type { components, paths } from './schema.d.ts';

export type Schemas = components['schemas'];
export type Connection = Schemas['Connection'];
export type ConnectionSummary = Schemas['ConnectionSummary'];
export type AnyConnection = Connection | ConnectionSummary;

export type Result<T> = { ok: true; data: T } | { ok: false; problem: Problem };

/**
 * The typed API client (generated from docs/openapi.json) for one signed-in user. The token lives
 * only in this closure: never in storage or cookies, so a reload signs out.
 */
export const createApi = (token: string, baseUrl = window.location.origin) => {
  const client = createClient<paths>({ baseUrl, headers: { authorization: `Bearer ${token}` } });
  return client;
};
export type Api = ReturnType<typeof createApi>;

/** Runs one client call and folds every outcome into data or a {@link Problem}. */
export const call = async <T>(
  request: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<Result<T>> => {
  try {
    const { data, error, response } = await request;
    if (response.ok && data !== undefined) return { ok: true, data };
    return { ok: false, problem: toProblem(response.status, error) };
  } catch {
    return { ok: false, problem: networkProblem() };
  }
};

/** Whether a connection view carries the admin's details (others get name and type only). */
export const isDetailed = (c: AnyConnection): c is Connection => 'sharing' in c;
