import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyResultV2,
} from 'aws-lambda';
import { type Caller, type ClaimForm, parseGroups, roleFromGroups } from '#lib/domain/access.ts';
import { nameText } from '#lib/domain/validation.ts';

export interface ApiRequest {
  method: string;
  path: string;
  query: Record<string, string | undefined>;
  headers: Record<string, string | undefined>;
  body: string | undefined;
  /** Undefined when the request carried no identity (only the public document allows that). */
  identity: { subject: string; groups: string[]; name?: string } | undefined;
}

export interface ApiResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

const lower = (headers: Record<string, string | undefined> | undefined): Record<string, string | undefined> =>
  Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));

type Claims = Record<string, unknown>;

/** Longest Authorization header decoded (API Gateway HTTP APIs take at most 10 KiB of headers). */
const MAX_AUTHORIZATION_CHARS = 10_240;
const COGNITO_ISSUER = /^https:\/\/cognito-idp\.[a-z0-9-]{1,40}\.amazonaws\.com\/[\w-]{1,60}$/;

/**
 * The payload of the bearer token API Gateway verified: the authorizer's identity source is this
 * header (cdk/constructs/http-api.ts), so its claims keep their JSON types, which the flattened
 * copy in the event loses. Undefined unless it is readable and names the same subject and issuer
 * as the authorizer's claims.
 */
const verifiedPayload = (authorization: string | undefined, claims: Claims): Claims | undefined => {
  if (authorization === undefined || authorization.length > MAX_AUTHORIZATION_CHARS) return undefined;
  const token = authorization.replace(/^bearer[ \t]+/i, '').trim();
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
    const p = payload as Claims;
    if (p.sub !== claims.sub || (claims.iss !== undefined && p.iss !== claims.iss)) return undefined;
    return p;
  } catch {
    return undefined;
  }
};

/** The caller's groups, read as exactly as the event allows (see ClaimForm). */
const groupsOf = (claims: Claims, authorization: string | undefined): string[] => {
  const name = claims['cognito:groups'] !== undefined ? 'cognito:groups' : 'groups';
  const payload = verifiedPayload(authorization, claims);
  if (payload !== undefined) return parseGroups(payload[name], 'json');
  const fromCognito =
    name === 'cognito:groups' && typeof claims.iss === 'string' && COGNITO_ISSUER.test(claims.iss);
  const form: ClaimForm = fromCognito ? 'flattened-cognito' : 'flattened';
  return parseGroups(claims[name], form);
};

/** Longest display name taken from a token; a longer claim is skipped rather than cut. */
export const MAX_NAME_CHARS = 200;
const NAME_CLAIMS = ['email', 'cognito:username', 'username'] as const;
const displayName = nameText(MAX_NAME_CHARS);

/**
 * The caller's display name: the first name claim that is short, printable text. It only labels the
 * caller (GET /me, "add yourself" in the console); access never depends on it.
 */
const nameOf = (claims: Claims): string | undefined => {
  for (const claim of NAME_CLAIMS) {
    const value = claims[claim];
    if (typeof value !== 'string' || value.length > MAX_NAME_CHARS) continue;
    const parsed = displayName.safeParse(value);
    if (parsed.success) return parsed.data;
  }
  return undefined;
};

/** An API Gateway HTTP API (payload 2.0) event, as the JWT authorizer passes it on. */
export const fromApiGateway = (
  event: APIGatewayProxyEventV2 | APIGatewayProxyEventV2WithJWTAuthorizer,
): ApiRequest => {
  const claims =
    'authorizer' in event.requestContext
      ? (event.requestContext.authorizer as { jwt?: { claims?: Claims } } | undefined)?.jwt?.claims
      : undefined;
  const subject = typeof claims?.sub === 'string' ? claims.sub : undefined;
  const body =
    event.body === undefined
      ? undefined
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString()
        : event.body;
  const headers = lower(event.headers);
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path: event.rawPath,
    query: event.queryStringParameters ?? {},
    headers,
    body,
    identity:
      subject === undefined || claims === undefined ? undefined : identityOf(subject, claims, headers),
  };
};

const identityOf = (
  subject: string,
  claims: Claims,
  headers: Record<string, string | undefined>,
): NonNullable<ApiRequest['identity']> => {
  const name = nameOf(claims);
  return {
    subject,
    groups: groupsOf(claims, headers.authorization),
    ...(name === undefined ? {} : { name }),
  };
};

export const callerOf = (identity: NonNullable<ApiRequest['identity']>): Caller | undefined => {
  const role = roleFromGroups(identity.groups);
  if (role === undefined) return undefined;
  return { id: identity.subject, role, ...(identity.name === undefined ? {} : { name: identity.name }) };
};

export const toApiGateway = (response: ApiResponse): APIGatewayProxyResultV2 => ({
  statusCode: response.status,
  headers: { 'cache-control': 'no-store', ...response.headers },
  ...(response.body === undefined ? {} : { body: JSON.stringify(response.body) }),
});
