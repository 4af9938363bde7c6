import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyResultV2,
} from 'aws-lambda';
import { type Caller, parseGroups, roleFromGroups } from '#lib/domain/access.ts';

export interface ApiRequest {
  method: string;
  path: string;
  query: Record<string, string | undefined>;
  headers: Record<string, string | undefined>;
  body: string | undefined;
  /** Undefined when the request carried no identity (only the public document allows that). */
  identity: { subject: string; groups: string[] } | undefined;
}

export interface ApiResponse {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

const lower = (headers: Record<string, string | undefined> | undefined): Record<string, string | undefined> =>
  Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));

/** An API Gateway HTTP API (payload 2.0) event, as the JWT authorizer passes it on. */
export const fromApiGateway = (
  event: APIGatewayProxyEventV2 | APIGatewayProxyEventV2WithJWTAuthorizer,
): ApiRequest => {
  const claims =
    'authorizer' in event.requestContext
      ? (event.requestContext.authorizer as { jwt?: { claims?: Record<string, unknown> } } | undefined)?.jwt
          ?.claims
      : undefined;
  const subject = typeof claims?.sub === 'string' ? claims.sub : undefined;
  const body =
    event.body === undefined
      ? undefined
      : event.isBase64Encoded
        ? Buffer.from(event.body, 'base64').toString()
        : event.body;
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path: event.rawPath,
    query: event.queryStringParameters ?? {},
    headers: lower(event.headers),
    body,
    identity:
      subject === undefined
        ? undefined
        : { subject, groups: parseGroups(claims?.['cognito:groups'] ?? claims?.groups) },
  };
};

export const callerOf = (identity: NonNullable<ApiRequest['identity']>): Caller | undefined => {
  const role = roleFromGroups(identity.groups);
  return role === undefined ? undefined : { id: identity.subject, role };
};

export const toApiGateway = (response: ApiResponse): APIGatewayProxyResultV2 => ({
  statusCode: response.status,
  headers: { 'cache-control': 'no-store', ...response.headers },
  ...(response.body === undefined ? {} : { body: JSON.stringify(response.body) }),
});
