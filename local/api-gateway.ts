import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyResultV2 } from 'aws-lambda';
import type { LocalRuntime } from './runtime.ts';

/**
 * Dev tokens for the local API: each stands for a signed-in user in one group. In AWS a JWT
 * authorizer verifies real tokens (Cognito or any OIDC issuer); locally these names are the tokens.
 */
export const DEV_TOKENS: Record<string, { sub: string; groups: string[] }> = {
  'dev-admin': { sub: 'dev-admin', groups: ['admins'] },
  'dev-contributor': { sub: 'dev-contributor', groups: ['contributors'] },
  'dev-viewer': { sub: 'dev-viewer', groups: ['viewers'] },
  'dev-nobody': { sub: 'dev-nobody', groups: [] },
};

export interface LocalRequest {
  method: string;
  /** Path with optional query string, e.g. `/exports/x/runs?dryRun=true`. */
  url: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LocalResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const PUBLIC = new Set(['GET /openapi.json']);
const PLANNER_ROUTE = /^\/exports\/[^/]+\/runs$/;

const unauthorized = (): LocalResponse => ({
  status: 401,
  headers: { 'content-type': 'application/json', 'www-authenticate': 'Bearer' },
  body: JSON.stringify({ message: 'Unauthorized' }),
});

/**
 * What API Gateway does in front of the functions: the JWT authorizer (dev tokens here; API Gateway
 * answers 401 itself for a missing or unknown token), payload format 2.0 events, and the routing of
 * `POST /exports/{id}/runs` to the planner and everything else to the API function.
 */
export const invokeLocalApi = async (
  runtime: LocalRuntime,
  request: LocalRequest,
): Promise<LocalResponse> => {
  const url = new URL(request.url, 'http://localhost');
  const method = request.method.toUpperCase();
  const headers = Object.fromEntries(
    Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
  );
  const isPublic = PUBLIC.has(`${method} ${url.pathname}`);
  const token = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '')?.[1]?.trim();
  const identity = token === undefined ? undefined : DEV_TOKENS[token];
  if (!isPublic && identity === undefined) return unauthorized();
  const event: APIGatewayProxyEventV2WithJWTAuthorizer = {
    version: '2.0',
    routeKey: `${method} ${url.pathname}`,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    ...(url.searchParams.size > 0 ? { queryStringParameters: Object.fromEntries(url.searchParams) } : {}),
    ...(request.body === undefined || request.body === '' ? {} : { body: request.body }),
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: {
        method,
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: `${method} ${url.pathname}`,
      stage: '$default',
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
      authorizer: {
        principalId: '',
        integrationLatency: 0,
        jwt: {
          // API Gateway flattens array claims into a bracketed string; so do we.
          claims: identity ? { sub: identity.sub, 'cognito:groups': `[${identity.groups.join(' ')}]` } : {},
          scopes: [],
        },
      },
    },
  };
  const toPlanner = method === 'POST' && PLANNER_ROUTE.test(url.pathname);
  const result = (
    toPlanner ? await runtime.handlers.planner(event) : await runtime.handlers.api(event)
  ) as Exclude<APIGatewayProxyResultV2, string>;
  return {
    status: result.statusCode ?? 200,
    headers: Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)])),
    body: result.body ?? '',
  };
};

const readBody = (req: IncomingMessage, limit: number): Promise<string | undefined> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // API Gateway refuses payloads over 10 MB; keep memory bounded the same way.
      if (size > limit) {
        resolve(undefined);
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString()));
    req.on('error', reject);
  });

/** Serves the local API over HTTP on loopback, as API Gateway would in AWS. */
export const startLocalApiServer = (
  runtime: LocalRuntime,
  port: number,
  host = '127.0.0.1',
): Promise<Server> =>
  new Promise((resolve, reject) => {
    const server = createServer(async (req, res) => {
      try {
        const body = await readBody(req, 10 * 1024 * 1024);
        if (body === undefined) {
          res
            .writeHead(413, { 'content-type': 'application/json' })
            .end('{"message":"Request Entity Too Large"}');
          return;
        }
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
        const response = await invokeLocalApi(runtime, {
          method: req.method ?? 'GET',
          url: req.url ?? '/',
          headers,
          body,
        });
        res.writeHead(response.status, response.headers).end(response.body);
      } catch {
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"message":"Internal Server Error"}');
      }
    });
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
