import type * as z from 'zod';
import { type Action, authorizeRole, type Caller } from '#lib/domain/access.ts';
import { ValidationError } from '#lib/domain/errors.ts';
import { idIssue } from '#lib/domain/validation.ts';
import type { Logger } from '#lib/ports/logger.ts';
import { type ApiRequest, type ApiResponse, callerOf } from './http.ts';
import { problem, problemFor } from './problems.ts';

/** What the router itself needs of the function's dependencies; routes get all of `D`. */
export interface RouterDeps {
  logger: Logger;
  maxBodyBytes: number;
}

export interface RouteContext<D extends RouterDeps = RouterDeps> {
  deps: D;
  caller: Caller;
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  /** Parsed JSON body (undefined when none was sent). */
  body: unknown;
}

export interface Route<D extends RouterDeps = RouterDeps> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** OpenAPI-style template: `/exports/{id}/runs`. */
  path: string;
  operationId: string;
  summary: string;
  /**
   * What the route does, in lib/domain/access.ts's terms: the router refuses a role that may never
   * do it before reading the request; the use case decides on the resource. `public` needs no identity.
   */
  action: Action | 'public';
  query?: Array<{ name: string; description: string; schema: z.ZodType }>;
  /** The request body; a route without one refuses any body but `{}`. */
  body?: z.ZodType;
  /** PUT semantics: the body replaces the resource, so fields with defaults must be sent too. */
  replaces?: boolean;
  responses: Array<{ status: number; description: string; schema?: z.ZodType }>;
  handle: (ctx: RouteContext<D>) => Promise<ApiResponse>;
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** Path parameters are ids: bounded and printable before any of them reaches the store. */
const checkParams = (params: Record<string, string>): void => {
  const issues = Object.entries(params).flatMap(([name, value]) => {
    const reason = idIssue(value);
    return reason === undefined ? [] : [{ path: `path.${name}`, reason }];
  });
  if (issues.length > 0) throw new ValidationError(issues);
};

const matchPath = (template: string, path: string): Record<string, string> | undefined => {
  const want = template.split('/').filter(Boolean);
  const got = path.split('/').filter(Boolean);
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as string;
    const g = got[i] as string;
    if (w.startsWith('{') && w.endsWith('}')) {
      try {
        params[w.slice(1, -1)] = decodeURIComponent(g);
      } catch {
        return undefined;
      }
    } else if (w !== g) return undefined;
  }
  return params;
};

const parseBody = (
  request: ApiRequest,
  maxBytes: number,
): { ok: true; body: unknown } | { ok: false; response: ApiResponse } => {
  const raw = request.body;
  if (raw === undefined || raw === '') return { ok: true, body: undefined };
  if (Buffer.byteLength(raw) > maxBytes) {
    return { ok: false, response: problem(413, `The request body is larger than ${maxBytes} bytes.`) };
  }
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/([a-z.+-]*\+)?json\b/i.test(type)) {
    return {
      ok: false,
      response: problem(415, 'Send the request body as JSON (Content-Type: application/json).'),
    };
  }
  try {
    return { ok: true, body: JSON.parse(raw) };
  } catch {
    return {
      ok: false,
      response: problem(400, 'The request body is not valid JSON.', {
        errors: [{ path: '', reason: 'is not valid JSON' }],
      }),
    };
  }
};

/** No body, or `{}`: nothing a route without a body would silently ignore. */
const isEmpty = (body: unknown): boolean =>
  body === undefined ||
  (typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 0);

/**
 * Matches a request to a route, checks identity (401 without one, 403 without one of our groups or
 * with a role that may never do the route's action), checks path ids, parses the body (413 too
 * large, 415 not JSON, 400 malformed or sent to a route that takes none) and turns every thrown
 * error into a problem response. The use cases then authorize the action on the resource.
 */
export const createRouter =
  <D extends RouterDeps>(routes: readonly Route<D>[], deps: D) =>
  async (request: ApiRequest): Promise<ApiResponse> => {
    const matches = routes
      .map((route) => ({ route, params: matchPath(route.path, request.path) }))
      .filter((m): m is { route: Route<D>; params: Record<string, string> } => m.params !== undefined);
    if (matches.length === 0) return problem(404, `There is no ${request.path} in this API.`);
    const match = matches.find((m) => m.route.method === request.method);
    if (match === undefined) {
      const allow = [...new Set(matches.map((m) => m.route.method))].join(', ');
      const refused = problem(405, `${request.method} is not supported here; use ${allow}.`);
      return { ...refused, headers: { ...refused.headers, allow } };
    }
    const { route, params } = match;
    try {
      let caller: Caller = { id: 'anonymous', role: 'viewer' };
      if (route.action !== 'public') {
        if (request.identity === undefined)
          return problem(401, 'Sign in: this request carried no identity token.');
        const known = callerOf(request.identity);
        if (known === undefined) {
          return problem(
            403,
            'Your account is in none of the groups admins, contributors or viewers; ask an admin.',
          );
        }
        caller = known;
        authorizeRole(caller, route.action);
      }
      checkParams(params);
      let body: unknown;
      if (BODY_METHODS.has(route.method)) {
        const parsed = parseBody(request, deps.maxBodyBytes);
        if (!parsed.ok) return parsed.response;
        body = parsed.body;
        if (route.body === undefined && !isEmpty(body)) {
          throw new ValidationError([{ path: '', reason: 'this request takes no body' }]);
        }
      }
      return await route.handle({ deps, caller, params, query: request.query, body });
    } catch (error) {
      return problemFor(error, deps.logger);
    }
  };
