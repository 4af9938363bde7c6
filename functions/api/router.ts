import type * as z from 'zod';
import type { Caller } from '#lib/domain/access.ts';
import type { ApiDeps } from './deps.ts';
import { type ApiRequest, type ApiResponse, callerOf } from './http.ts';
import { problem, problemFor } from './problems.ts';

export interface RouteContext {
  deps: ApiDeps;
  caller: Caller;
  params: Record<string, string>;
  query: Record<string, string | undefined>;
  /** Parsed JSON body (undefined when none was sent). */
  body: unknown;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** OpenAPI-style template: `/exports/{id}/runs`. */
  path: string;
  operationId: string;
  summary: string;
  /** Who may call it, for the document (the check itself lives in lib/domain/access.ts). */
  access: string;
  public?: boolean;
  query?: Array<{ name: string; description: string; schema: z.ZodType }>;
  body?: z.ZodType;
  responses: Array<{ status: number; description: string; schema?: z.ZodType }>;
  handle: (ctx: RouteContext) => Promise<ApiResponse>;
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

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

/**
 * Matches a request to a route, checks identity (401 without one, 403 without one of our groups),
 * parses the body (413 too large, 415 not JSON, 400 malformed) and turns every thrown error into a
 * problem response. Authorization of the action itself happens in the use cases.
 */
export const createRouter =
  (routes: readonly Route[], deps: ApiDeps) =>
  async (request: ApiRequest): Promise<ApiResponse> => {
    const matches = routes
      .map((route) => ({ route, params: matchPath(route.path, request.path) }))
      .filter((m): m is { route: Route; params: Record<string, string> } => m.params !== undefined);
    if (matches.length === 0) return problem(404, `There is no ${request.path} in this API.`);
    const match = matches.find((m) => m.route.method === request.method);
    if (match === undefined) {
      const allow = [...new Set(matches.map((m) => m.route.method))].join(', ');
      return {
        ...problem(405, `${request.method} is not supported here; use ${allow}.`),
        headers: { allow },
      };
    }
    const { route, params } = match;
    try {
      let caller: Caller = { id: 'anonymous', role: 'viewer' };
      if (!route.public) {
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
      }
      let body: unknown;
      if (BODY_METHODS.has(route.method)) {
        const parsed = parseBody(request, deps.maxBodyBytes);
        if (!parsed.ok) return parsed.response;
        body = parsed.body;
      }
      return await route.handle({ deps, caller, params, query: request.query, body });
    } catch (error) {
      return problemFor(error, deps.logger);
    }
  };
