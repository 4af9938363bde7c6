import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyResultV2 } from 'aws-lambda';
import { problem as problemDetails } from '#functions/shared/http/problems.ts';
import { type ConsoleAuth, consoleAsset } from './console-assets.ts';
import { type JwtIssuer, verifiedClaims } from './jwt-verifier.ts';
import { lambdaContext } from './lambda-context.ts';
import type { LocalRuntime } from './runtime.ts';

/** The Lambda `Context` a locally invoked function gets: its remaining time counts down from `timeoutMs`. */
/** The API function's timeout in the stack (cdk/stacks/stateless-stack.ts SIZING.api). */
const API_TIMEOUT_MS = 10_000;

/**
 * Dev tokens for the local API: each stands for a signed-in user in one group. In AWS a JWT
 * authorizer verifies real tokens (Cognito or any OIDC issuer); locally these names are the tokens.
 */
export const DEV_TOKENS: Record<string, { sub: string; groups: string[]; email?: string }> = {
  'dev-admin': { sub: 'dev-admin', groups: ['admins'], email: 'admin@example.local' },
  'dev-contributor': { sub: 'dev-contributor', groups: ['contributors'], email: 'contributor@example.local' },
  // A second contributor: one a connection can name as export user while it leaves out the other.
  'dev-contributor-2': {
    sub: 'dev-contributor-2',
    groups: ['contributors'],
    email: 'contributor-2@example.local',
  },
  'dev-viewer': { sub: 'dev-viewer', groups: ['viewers'], email: 'viewer@example.local' },
  'dev-nobody': { sub: 'dev-nobody', groups: [] },
};

/** The claims API Gateway's JWT authorizer passes on for a dev token. */
const claimsOf = (identity: (typeof DEV_TOKENS)[string] | undefined): Record<string, string> => {
  if (identity === undefined) return {};
  return {
    sub: identity.sub,
    // API Gateway flattens array claims into a bracketed string; so do we.
    'cognito:groups': `[${identity.groups.join(' ')}]`,
    ...(identity.email === undefined ? {} : { email: identity.email }),
  };
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

/**
 * Problem details, as the API documents its errors (the API's own `problem()`). (In AWS, API
 * Gateway's JWT authorizer answers a 401 itself with `{"message":"Unauthorized"}`; HTTP APIs cannot
 * change that body.)
 */
const problem = (status: number, detail: string, headers: Record<string, string> = {}): LocalResponse => {
  const details = problemDetails(status, detail);
  return { status, headers: { ...details.headers, ...headers }, body: JSON.stringify(details.body) };
};

const unauthorized = (): LocalResponse =>
  problem(
    401,
    `Send "Authorization: Bearer <token>" with one of the dev tokens: ${Object.keys(DEV_TOKENS).join(', ')}.`,
    { 'www-authenticate': 'Bearer realm="autopilot-export"' },
  );

/**
 * What API Gateway does in front of the API function: the JWT authorizer (dev tokens here; API
 * Gateway answers 401 itself for a missing or unknown token) and payload format 2.0 events.
 */
export const invokeLocalApi = async (
  runtime: LocalRuntime,
  request: LocalRequest,
  options: { jwtIssuer?: JwtIssuer } = {},
): Promise<LocalResponse> => {
  const url = new URL(request.url, 'http://localhost');
  const method = request.method.toUpperCase();
  const headers = Object.fromEntries(
    Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
  );
  const isPublic = PUBLIC.has(`${method} ${url.pathname}`);
  const token = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '')?.[1]?.trim();
  const identity = token === undefined ? undefined : DEV_TOKENS[token];
  const jwtClaims =
    token === undefined || identity !== undefined || options.jwtIssuer === undefined
      ? undefined
      : verifiedClaims(token, options.jwtIssuer);
  if (!isPublic && identity === undefined && jwtClaims === undefined) return unauthorized();
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
        jwt: { claims: jwtClaims ?? claimsOf(identity), scopes: [] },
      },
    },
  };
  const context = lambdaContext('autopilot-export-api', API_TIMEOUT_MS);
  const result = (await runtime.handlers.api(event, context)) as Exclude<APIGatewayProxyResultV2, string>;
  return {
    status: result.statusCode ?? 200,
    headers: Object.fromEntries(Object.entries(result.headers ?? {}).map(([k, v]) => [k, String(v)])),
    body: result.body ?? '',
  };
};

/** API Gateway refuses payloads over 10 MB; the local server does the same. */
export const MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

export interface LocalServerOptions {
  host?: string;
  maxBodyBytes?: number;
  /** Serves the web console built there (scripts/build-console.ts) at `/` and `/console/*`. */
  consoleDir?: string;
  /** A request must arrive whole (headers and body) within this; API Gateway allows 30 s. */
  requestTimeoutMs?: number;
  /** Its headers within this. */
  headersTimeoutMs?: number;
  /** Also accept this OIDC issuer's access tokens, verified as API Gateway's JWT authorizer would. */
  jwtIssuer?: JwtIssuer;
  /** What `/console/config.json` tells the console; `{"kind":"local"}` (dev users) when unset. */
  consoleAuth?: ConsoleAuth;
}

const tooLarge = (limit: number): LocalResponse =>
  problem(413, `The request body is larger than ${limit} bytes.`, { connection: 'close' });

const send = (res: ServerResponse, response: LocalResponse): void => {
  res.writeHead(response.status, response.headers).end(response.body);
};

/**
 * Reads a body of at most `limit` bytes; undefined when it is larger (then the rest is discarded,
 * never kept, so a client still sending gets the 413 rather than a reset).
 */
const readBody = (req: IncomingMessage, limit: number): Promise<string | undefined> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      chunks.length = 0;
      req.off('data', onData);
      req.resume();
      resolve(undefined);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString()));
    req.on('error', reject);
  });

const declaredLength = (req: IncomingMessage): number => Number(req.headers['content-length'] ?? 0);

/** Serves the local API over HTTP on loopback, as API Gateway would in AWS. */
export const startLocalApiServer = (
  runtime: LocalRuntime,
  port: number,
  options: LocalServerOptions = {},
): Promise<Server> => {
  const limit = options.maxBodyBytes ?? MAX_PAYLOAD_BYTES;
  const requestTimeout = options.requestTimeoutMs ?? 30_000;
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const asset =
        options.consoleDir === undefined
          ? undefined
          : await consoleAsset(options.consoleDir, req.method ?? 'GET', req.url ?? '/', {
              auth: options.consoleAuth,
              origin: ownOrigin(),
            });
      if (asset !== undefined) {
        req.resume();
        send(res, asset);
        return;
      }
      if (declaredLength(req) > limit) {
        req.resume();
        send(res, tooLarge(limit));
        return;
      }
      const body = await readBody(req, limit);
      if (body === undefined) {
        send(res, tooLarge(limit));
        return;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      send(
        res,
        await invokeLocalApi(
          runtime,
          { method: req.method ?? 'GET', url: req.url ?? '/', headers, body },
          options.jwtIssuer === undefined ? {} : { jwtIssuer: options.jwtIssuer },
        ),
      );
    } catch {
      send(res, problem(500, 'The local API failed; see the log.'));
    }
  };
  // The console's redirect URI defaults to this server's own address, known once it listens.
  const ownOrigin = (): string => {
    const address = server.address();
    const listening = typeof address === 'object' && address !== null ? address.port : port;
    return `http://${options.host ?? '127.0.0.1'}:${listening}`;
  };
  const server = createServer(
    // Timeouts are enforced on this check's tick: keep it well below them.
    { connectionsCheckingInterval: Math.max(10, Math.min(1_000, Math.floor(requestTimeout / 4))) },
    (req, res) => void handle(req, res),
  );
  server.requestTimeout = requestTimeout;
  server.headersTimeout = Math.min(options.headersTimeoutMs ?? 10_000, requestTimeout);
  // A client that announces a body too large (Expect: 100-continue) is answered before it sends it.
  server.on('checkContinue', (req, res) => {
    if (declaredLength(req) > limit) {
      send(res, tooLarge(limit));
      return;
    }
    res.writeContinue();
    void handle(req, res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, options.host ?? '127.0.0.1', () => resolve(server));
  });
};
